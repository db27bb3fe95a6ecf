import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildInputs, hashBuildInputs, type AppLayout } from './build-inputs';
import { DASHBOARD_DIR } from './launcher';

describe('the dashboard build inputs', () => {
  let root: string;
  let layout: AppLayout;
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const pkg = (dir: string, name: string) => write(`${dir}/package.json`, JSON.stringify({ name }));

  beforeEach(() => {
    // A workspace: the app imports a (through a subpath), a imports b; c is imported by a's test only.
    root = mkdtempSync(join(tmpdir(), 'chorus-build-inputs-'));
    write('package.json', JSON.stringify({ workspaces: ['apps/*', 'libs/*'] }));
    write('package-lock.json', '{}');
    pkg('apps/web', '@x/web');
    write('apps/web/src/app/page.tsx', `import { read } from '@x/a/client';\nexport default read;\n`);
    write('apps/web/src/app/style.css', 'body {}');
    pkg('libs/a', '@x/a');
    write('libs/a/src/client.ts', `export { b as read } from "@x/b";\n`);
    write('libs/a/src/client.test.ts', `import '@x/c';\n`);
    pkg('libs/b', '@x/b');
    write('libs/b/src/index.ts', 'export const b = 1;\n');
    pkg('libs/c', '@x/c');
    write('libs/c/src/index.ts', 'export const c = 1;\n');
    pkg('libs/ab', '@x/ab'); // a name that begins like another one is not it
    write('libs/ab/src/index.ts', 'export const ab = 1;\n');
    layout = { root, appDir: join(root, 'apps/web') };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('are the packages the app imports, transitively, and not the others', () => {
    const inputs = buildInputs(layout);
    expect(inputs.packages).toEqual(['@x/a', '@x/b']);
    expect(inputs.roots.map((p) => p.slice(root.length + 1))).toEqual([
      'apps/web/src',
      'apps/web/next.config.mjs',
      'apps/web/tsconfig.json',
      'apps/web/package.json',
      'libs/a/src',
      'libs/a/package.json',
      'libs/b/src',
      'libs/b/package.json',
      'package-lock.json',
    ]);
  });

  it('change with the sources of an imported package, not with others or with tests', () => {
    const before = hashBuildInputs(layout);
    write('libs/c/src/index.ts', 'export const c = 2;\n');
    write('libs/a/src/other.test.ts', 'export {};\n');
    expect(hashBuildInputs(layout)).toBe(before);
    write('libs/b/src/index.ts', 'export const b = 2;\n');
    expect(hashBuildInputs(layout)).not.toBe(before);
  });

  it('follow a package the app starts importing', () => {
    const before = hashBuildInputs(layout);
    write('apps/web/src/app/extra.ts', `export const c = await import('@x/c');\n`);
    expect(buildInputs(layout).packages).toEqual(['@x/a', '@x/b', '@x/c']);
    const withC = hashBuildInputs(layout);
    expect(withC).not.toBe(before);
    write('libs/c/src/index.ts', 'export const c = 2;\n');
    expect(hashBuildInputs(layout)).not.toBe(withC);
  });

  it('of the real dashboard are the libs it reads through, never tfjs code', () => {
    const { packages } = buildInputs({ root: join(DASHBOARD_DIR, '../..'), appDir: DASHBOARD_DIR });
    expect(packages).toEqual(expect.arrayContaining(['@chorus/db', '@chorus/ensemble', '@chorus/protocol']));
    expect(packages).not.toContain('@chorus/models');
    expect(packages.filter((name) => !name.startsWith('@chorus/'))).toEqual([]);
  });
});
