import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTlsTrust } from './tls-trust';

const dir = mkdtempSync(join(tmpdir(), 'chorus-ca-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readTlsTrust', () => {
  it('names the file it cannot read, or that holds no certificate', () => {
    expect(() => readTlsTrust(join(dir, 'missing.pem'))).toThrow(/^--ca .*missing\.pem: ENOENT/);
    writeFileSync(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    expect(() => readTlsTrust(join(dir, 'key.pem'))).toThrow(/key\.pem holds no PEM certificate/);
  });
});
