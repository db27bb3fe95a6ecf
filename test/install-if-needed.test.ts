import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installReason, installTimes } from '../scripts/install-if-needed.mjs';
import { nodeVersionProblem } from '../scripts/node-version.mjs';

const root = mkdtempSync(join(tmpdir(), 'chorus-install-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('installReason (the pre-step of npm start and npm test)', () => {
  it('installs when node_modules is absent', () => {
    expect(installReason({ installedAt: undefined, lockChangedAt: 1_000 })).toBe('node_modules is missing');
  });

  it('installs when package-lock.json changed after the last install', () => {
    expect(installReason({ installedAt: 1_000, lockChangedAt: 2_000 })).toBe(
      'package-lock.json is newer than node_modules',
    );
  });

  it('does nothing when node_modules is up to date', () => {
    expect(installReason({ installedAt: 2_000, lockChangedAt: 1_000 })).toBeUndefined();
    expect(installReason({ installedAt: 1_000, lockChangedAt: 1_000 })).toBeUndefined();
  });

  it("reads the times of package-lock.json and npm's record of the last install", () => {
    writeFileSync(join(root, 'package-lock.json'), '{}');
    utimesSync(join(root, 'package-lock.json'), 1_000, 1_000);
    // A fresh clone: no node_modules.
    expect(installReason(installTimes(root))).toBe('node_modules is missing');
    // node_modules without npm's record (an install that did not finish) counts as missing.
    mkdirSync(join(root, 'node_modules'));
    expect(installReason(installTimes(root))).toBe('node_modules is missing');
    writeFileSync(join(root, 'node_modules', '.package-lock.json'), '{}');
    utimesSync(join(root, 'node_modules', '.package-lock.json'), 500, 500);
    expect(installReason(installTimes(root))).toBe('package-lock.json is newer than node_modules');
    utimesSync(join(root, 'node_modules', '.package-lock.json'), 2_000, 2_000);
    expect(installReason(installTimes(root))).toBeUndefined();
  });
});

describe('nodeVersionProblem', () => {
  it('accepts versions in the range and explains the others', () => {
    expect(nodeVersionProblem('20.19.0', '>=20.19')).toBeUndefined();
    expect(nodeVersionProblem('20.20.2', '>=20.19')).toBeUndefined();
    expect(nodeVersionProblem('22.1.0', '>=20.19')).toBeUndefined();
    expect(nodeVersionProblem('20.18.3', '>=20.19')).toMatch(/needs Node >=20\.19 .*this is Node 20\.18\.3/);
    expect(nodeVersionProblem('18.20.0', '>=20.19')).toMatch(/needs Node/);
    expect(nodeVersionProblem('18.0.0', '^20 || ^22')).toBeUndefined(); // a form it does not check
  });
});
