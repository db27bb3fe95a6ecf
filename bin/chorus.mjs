#!/usr/bin/env node
// Entry point of `npx chorus`: the CLI is TypeScript run through tsx, so no build step is needed.
import { exitOnUnsupportedNode } from '../scripts/node-version.mjs';

// Before anything that an old Node cannot load: say which Node is needed.
exitOnUnsupportedNode();
const { register } = await import('tsx/esm/api');
register();
// The process entry point, not a library import: it loads the CLI app's main module by path.
// eslint-disable-next-line @nx/enforce-module-boundaries
await import('../apps/cli/src/main.ts');
