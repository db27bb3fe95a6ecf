/* global process, URL */
// The Node versions Chorus runs on are package.json's `engines.node` (a `>=X.Y[.Z]` range). npm only
// warns about it, so the entry points (bin/chorus.mjs, npm start, npm test) check it themselves.
import { readFileSync } from 'node:fs';

/**
 * Why `version` (e.g. process.versions.node) falls outside `range` (`>=20.19`), or undefined when
 * it does not. A range of another form is not checked.
 */
export function nodeVersionProblem(version, range) {
  const minimum = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  if (!minimum) return undefined;
  const want = minimum.slice(1).map((part) => Number(part ?? 0));
  const have = version.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) > want[i]) return undefined;
    if ((have[i] ?? 0) < want[i]) {
      return `Chorus needs Node ${range} (package.json "engines"); this is Node ${version}. Install a newer Node (e.g. 20 LTS or 22) and try again.`;
    }
  }
  return undefined;
}

/** The supported range, from the repository's package.json. */
export function supportedNodeRange() {
  const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return packageJson.engines?.node ?? '*';
}

/** Exits with a clear message when this Node is too old. */
export function exitOnUnsupportedNode() {
  const problem = nodeVersionProblem(process.versions.node, supportedNodeRange());
  if (problem !== undefined) {
    process.stderr.write(`${problem}\n`);
    process.exit(1);
  }
}
