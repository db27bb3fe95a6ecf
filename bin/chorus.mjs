#!/usr/bin/env node
// Entry point of `npx chorus`: the CLI is TypeScript run through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('../apps/cli/src/main.ts');
