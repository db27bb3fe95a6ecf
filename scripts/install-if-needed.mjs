#!/usr/bin/env node
/* global process, console */
// The first step of `npm start` and `npm test`: on a fresh clone (or after package-lock.json
// changed) it runs `npm ci` and says so; otherwise it costs two stat calls. Node built-ins only,
// since it runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { exitOnUnsupportedNode } from './node-version.mjs';

/**
 * Why the dependencies must be installed, or undefined when they are up to date. npm writes
 * node_modules/.package-lock.json at the end of every install, so its modification time is when
 * node_modules was last brought in line with package-lock.json.
 *
 * @param {{ installedAt: number | undefined, lockChangedAt: number }} times  milliseconds; installedAt
 *   undefined when node_modules (or npm's record in it) is absent
 * @returns {string | undefined}
 */
export function installReason({ installedAt, lockChangedAt }) {
  if (installedAt === undefined) return 'node_modules is missing';
  if (installedAt < lockChangedAt) return 'package-lock.json is newer than node_modules';
  return undefined;
}

/** The times installReason compares, read from the repository at `root`. */
export function installTimes(root) {
  const mtime = (path) => {
    try {
      return statSync(path).mtimeMs;
    } catch {
      return undefined;
    }
  };
  return {
    installedAt: mtime(join(root, 'node_modules', '.package-lock.json')),
    lockChangedAt: mtime(join(root, 'package-lock.json')) ?? 0,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  exitOnUnsupportedNode();
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const reason = installReason(installTimes(root));
  if (reason !== undefined) {
    console.log(`chorus: ${reason}: running npm ci first (about a minute)`);
    const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
      cwd: root,
      stdio: 'inherit',
      shell: process.platform === 'win32', // npm is npm.cmd there
    });
    if (result.status !== 0) {
      console.error(
        `chorus: npm ci failed (exit ${result.status ?? result.signal}); fix the error above and try again`,
      );
      process.exit(result.status ?? 1);
    }
  }
}
