import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkReadablePath, readMaybeGzip } from './io';

const dir = mkdtempSync(join(tmpdir(), 'chorus-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checkReadablePath', () => {
  const root = join(dir, 'data');
  const sibling = join(dir, 'data2'); // shares the root's name as a prefix, not its directory
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(sibling);
  writeFileSync(join(root, 'sub', 'a.csv'), '1,2\n');
  writeFileSync(join(sibling, 'b.csv'), '3,4\n');
  writeFileSync(join(root, '..hidden.csv'), '5,6\n'); // a name starting with "..", inside the root
  symlinkSync(join(sibling, 'b.csv'), join(root, 'link.csv'));
  const limits = { roots: [root], maxBytes: 100 };

  it('takes regular files under a root (names starting with ".." included) and, when asked, directories', async () => {
    await expect(checkReadablePath(join(root, 'sub', 'a.csv'), limits)).resolves.toBe(
      join(root, 'sub', 'a.csv'),
    );
    await expect(checkReadablePath(join(root, '..hidden.csv'), limits)).resolves.toBeTruthy();
    await expect(checkReadablePath(join(root, 'sub'), limits, { directory: true })).resolves.toBe(
      join(root, 'sub'),
    );
    await expect(checkReadablePath(join(root, 'sub'), limits)).rejects.toThrow(/not a regular file$/);
  });

  it('refuses a sibling with the same prefix, a way out through "..", and a link out of the root', async () => {
    await expect(checkReadablePath(join(sibling, 'b.csv'), limits)).rejects.toThrow(
      /outside the dataset roots/,
    );
    await expect(checkReadablePath(join(root, '..', 'data2', 'b.csv'), limits)).rejects.toThrow(
      /outside the dataset roots/,
    );
    await expect(checkReadablePath(join(root, 'link.csv'), limits)).rejects.toThrow(
      /outside the dataset roots/,
    );
  });

  it('refuses pseudo-files even under a root of /', async () => {
    const everything = { roots: ['/'], maxBytes: 1 << 20 };
    await expect(checkReadablePath('/proc/self/environ', everything)).rejects.toThrow(/system pseudo-file/);
    await expect(checkReadablePath('/dev/urandom', everything)).rejects.toThrow(/system pseudo-file/);
  });

  it('caps the bytes read', async () => {
    writeFileSync(join(root, 'big.csv'), 'x'.repeat(101));
    await expect(readMaybeGzip(join(root, 'big.csv'), limits)).rejects.toThrow(/larger than 100 bytes/);
    await expect(readMaybeGzip(join(root, 'sub', 'a.csv'), limits)).resolves.toEqual(
      new Uint8Array(Buffer.from('1,2\n')),
    );
  });
});
