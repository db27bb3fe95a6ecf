import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bearerToken, resolveTokens, tokenMatches, TOKENS_FILE } from './tokens';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-tokens-'));
  dirs.push(dir);
  return join(dir, 'data');
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('resolveTokens', () => {
  it('generates both tokens into tokens.json (0600) and reuses them on restart', () => {
    const dataDir = tempDir();
    const first = resolveTokens({ dataDir });
    expect(first.generated).toBe(true);
    expect(first.tokensFile).toBe(join(dataDir, TOKENS_FILE));
    expect(first.workerToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.adminToken).not.toBe(first.workerToken);
    expect(statSync(first.tokensFile!).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(first.tokensFile!, 'utf8'))).toEqual({
      workerToken: first.workerToken,
      adminToken: first.adminToken,
    });

    const again = resolveTokens({ dataDir });
    expect(again).toEqual({ ...first, generated: false });
  });

  it('uses tokens that are given, and fills in only the missing one', () => {
    const dataDir = tempDir();
    const given = { workerToken: 'w'.repeat(20), adminToken: 'a'.repeat(20) };
    expect(resolveTokens({ dataDir, ...given })).toEqual({ ...given, generated: false });
    const half = resolveTokens({ dataDir, workerToken: given.workerToken });
    expect(half.workerToken).toBe(given.workerToken);
    expect(half.adminToken).toHaveLength(43);
  });

  it('refuses short or equal tokens and a broken tokens.json, and tightens loose permissions', () => {
    const dataDir = tempDir();
    expect(() => resolveTokens({ dataDir, workerToken: 'short' })).toThrow(/at least 16/);
    expect(() => resolveTokens({ dataDir, workerToken: 'x'.repeat(20), adminToken: 'x'.repeat(20) })).toThrow(
      /must differ/,
    );
    const { tokensFile } = resolveTokens({ dataDir });
    chmodSync(tokensFile!, 0o644);
    resolveTokens({ dataDir });
    expect(statSync(tokensFile!).mode & 0o777).toBe(0o600);
    writeFileSync(tokensFile!, '{"workerToken": 1}');
    expect(() => resolveTokens({ dataDir })).toThrow(/tokens.json must hold/);
  });
});

describe('tokenMatches', () => {
  it('compares in constant time and accepts only the exact token', () => {
    expect(tokenMatches('secret-secret-secret', 'secret-secret-secret')).toBe(true);
    expect(tokenMatches('secret-secret-secret', 'secret-secret-secreT')).toBe(false);
    expect(tokenMatches('secret-secret-secret', 'secret')).toBe(false);
    expect(tokenMatches('secret-secret-secret', undefined)).toBe(false);
    expect(tokenMatches('secret-secret-secret', 42)).toBe(false);
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
  });
});
