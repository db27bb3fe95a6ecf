import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHORUS_VERSION } from './version';

describe('CHORUS_VERSION', () => {
  it('is the repository’s version (what `chorus --version` prints)', () => {
    const root = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(CHORUS_VERSION).toBe(root.version);
  });
});
