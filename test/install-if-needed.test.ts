import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/**
 * A fresh clone in CI's way: the repository's own pre-step scripts and its `prestart` / `pretest`
 * lines in a package whose one dependency is a local folder, so that the real `npm ci` runs without
 * the registry. No node_modules at first, as after `git clone`.
 */
describe('npm start and npm test on a fresh clone', () => {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  const ours = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
    engines: { node: string };
    scripts: Record<string, string>;
  };
  const clone = join(root, 'clone');
  // npm's own variables of an `npm test` that runs this file stay out of the clone's npm.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)),
  ) as NodeJS.ProcessEnv;
  const npm = (...args: string[]) => {
    const r = spawnSync('npm', args, {
      cwd: clone,
      encoding: 'utf8',
      env: { ...env, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' },
    });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const writeJson = (path: string, value: unknown) => writeFileSync(join(clone, path), JSON.stringify(value));

  it('run npm ci first and say so; later, only their own job; again once the lock changes', () => {
    // npm test's pre-step begins with npm start's (then generates the Prisma client).
    const prestart = ours.scripts.prestart as string;
    expect(prestart).toBe('node scripts/install-if-needed.mjs');
    expect(ours.scripts.pretest?.startsWith(`${prestart} && `)).toBe(true);

    mkdirSync(join(clone, 'scripts'), { recursive: true });
    for (const file of ['install-if-needed.mjs', 'node-version.mjs'])
      copyFileSync(join(repo, 'scripts', file), join(clone, 'scripts', file));
    mkdirSync(join(clone, 'dep'));
    writeJson('dep/package.json', { name: 'dep', version: '1.0.0' });
    writeJson('package.json', {
      name: 'clone',
      version: '1.0.0',
      private: true,
      engines: ours.engines,
      dependencies: { dep: 'file:./dep' },
      scripts: {
        prestart,
        start: 'node -e "console.log(\'started\')"',
        pretest: prestart,
        test: 'node -e "console.log(\'tested\')"',
      },
    });
    expect(npm('install', '--package-lock-only').code).toBe(0);
    expect(existsSync(join(clone, 'node_modules'))).toBe(false);

    const first = npm('start');
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain('chorus: node_modules is missing: running npm ci first');
    expect(first.out.indexOf('running npm ci first')).toBeLessThan(first.out.indexOf('started'));
    expect(existsSync(join(clone, 'node_modules', 'dep', 'package.json'))).toBe(true);

    const test = npm('test');
    expect(test.code, test.out).toBe(0);
    expect(test.out).not.toContain('npm ci');
    expect(test.out).toContain('tested');

    // A pull that brings a new package-lock.json: installed again before the job.
    const later = (Date.now() + 60_000) / 1000;
    utimesSync(join(clone, 'package-lock.json'), later, later);
    const pulled = npm('test');
    expect(pulled.code, pulled.out).toBe(0);
    expect(pulled.out).toContain(
      'chorus: package-lock.json is newer than node_modules: running npm ci first',
    );
  });

  it('stop before their job when npm ci fails', () => {
    // package.json names a dependency the lock does not have: npm ci refuses.
    const pkg = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeJson('package.json', { ...pkg, dependencies: { dep: 'file:./dep', other: 'file:./dep' } });
    rmSync(join(clone, 'node_modules'), { recursive: true, force: true });
    const r = npm('start');
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/chorus: npm ci failed \(exit \d+\); fix the error above and try again/);
    expect(r.out).not.toContain('started');
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
