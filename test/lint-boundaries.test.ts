import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The package boundaries of ARCHITECTURE.md: which workspace package may import which is
 * `@nx/enforce-module-boundaries` (the Nx tags of each package.json), and what the tags cannot
 * express are `no-restricted-imports` rules of eslint.config.mjs. Each forbidden import below is
 * linted as if it were in a file of the package, and must be rejected by its rule (and the allowed
 * ones not).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const eslint = new ESLint({ cwd: ROOT });

/** The messages of rule `rule` for `code` in a (not necessarily existing) file at `path`. */
async function messagesOf(rule: string, path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const used = x;\n`, {
    filePath: `${ROOT}/${path}`,
  });
  return (result?.messages ?? []).filter((m) => m.ruleId === rule).map((m) => m.message);
}

const restrictedImports = (path: string, code: string) => messagesOf('no-restricted-imports', path, code);
const moduleBoundaries = (path: string, module: string) =>
  messagesOf('@nx/enforce-module-boundaries', path, `import { x } from '${module}';`);

// The Nx rule reads the cached project graph and skips itself (with a warning) when there is none:
// `npm run lint` computes it first (`nx show projects`), and so does this test.
beforeAll(() => {
  execFileSync(`${ROOT}/node_modules/.bin/nx`, ['show', 'projects'], {
    cwd: ROOT,
    env: { ...process.env, NX_DAEMON: 'false' },
    stdio: 'ignore',
  });
}, 120_000);

describe('lint boundaries', () => {
  it('a lib imports only the libs its Nx tags allow, and never an app', async () => {
    for (const [file, module] of [
      ['libs/protocol/src/fixture.ts', '@chorus/data'], // protocol depends on zod alone
      ['libs/db/src/fixture.ts', '@chorus/ensemble'], // db: protocol only
      ['libs/ensemble/src/fixture.ts', '@chorus/models'],
      ['libs/data/src/fixture.ts', '@chorus/worker'], // a lib never imports an app
    ] as const) {
      expect(await moduleBoundaries(file, module), `${file} → ${module}`).not.toEqual([]);
    }
    for (const [file, module] of [
      ['libs/db/src/fixture.ts', '@chorus/protocol'],
      ['libs/data/src/fixture.ts', '@chorus/protocol'],
      ['libs/models/src/fixture.ts', '@chorus/ensemble'],
    ] as const) {
      expect(await moduleBoundaries(file, module), `${file} → ${module}`).toEqual([]);
    }
  });

  it('libs/db imports no TensorFlow.js', async () => {
    for (const module of ['@tensorflow/tfjs', '@tensorflow/tfjs-core']) {
      expect(await restrictedImports('libs/db/src/fixture.ts', `import * as x from '${module}';`)).toEqual([
        expect.stringMatching(/must not depend on TensorFlow\.js/),
      ]);
    }
    expect(await restrictedImports('libs/db/src/fixture.ts', `import { x } from '@prisma/client';`)).toEqual(
      [],
    );
  });

  it('the dashboard imports libs/db only through @chorus/db/client', async () => {
    const file = 'apps/dashboard/src/server/fixture.ts';
    for (const module of [
      '@chorus/db',
      '@chorus/db/testing',
      '@chorus/db/src/migrations',
      '../../../../libs/db/src/client',
    ]) {
      expect(await restrictedImports(file, `import { x } from '${module}';`), module).toEqual([
        expect.stringMatching(/only through @chorus\/db\/client/),
      ]);
    }
    expect(await restrictedImports(file, `import { x } from '@chorus/db/client';`)).toEqual([]);
    // Its other restrictions still hold there.
    expect(await restrictedImports(file, `import { x } from '@tensorflow/tfjs';`)).toEqual([
      expect.stringMatching(/TensorFlow\.js/),
    ]);
    expect(await restrictedImports(file, `import { x } from '@prisma/client';`)).toEqual([
      expect.stringMatching(/Only libs\/db talks to Prisma/),
    ]);
  });

  it('dashboard tests may also use @chorus/db/testing, nothing else of libs/db', async () => {
    const file = 'apps/dashboard/src/server/fixture.test.ts';
    expect(await restrictedImports(file, `import { x } from '@chorus/db/testing';`)).toEqual([]);
    expect(await restrictedImports(file, `import { x } from '@chorus/db';`)).toEqual([
      expect.stringMatching(/only through @chorus\/db\/client/),
    ]);
  });
});
