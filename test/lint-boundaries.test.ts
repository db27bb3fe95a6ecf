import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The package boundaries of ARCHITECTURE.md that the Nx tags cannot express are
 * `no-restricted-imports` rules of eslint.config.mjs: each forbidden import below is linted as if
 * it were in a file of the package, and must be rejected by that rule (and the allowed ones not).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const eslint = new ESLint({ cwd: ROOT });

/** The `no-restricted-imports` messages for `code` in a (not necessarily existing) file at `path`. */
async function restrictedImports(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const used = x;\n`, {
    filePath: `${ROOT}/${path}`,
  });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('lint boundaries', () => {
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
