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
  it('generates the three tokens into tokens.json (0600) and reuses them on restart', () => {
    const dataDir = tempDir();
    const first = resolveTokens({ dataDir });
    expect(first.generated).toBe(true);
    expect(first.tokensFile).toBe(join(dataDir, TOKENS_FILE));
    expect(first.workerToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.adminToken).not.toBe(first.workerToken);
    expect(new Set([first.workerToken, first.adminToken, first.viewerToken]).size).toBe(3);
    expect(statSync(first.tokensFile!).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(first.tokensFile!, 'utf8'))).toEqual({
      workerToken: first.workerToken,
      adminToken: first.adminToken,
      viewerToken: first.viewerToken,
    });

    const again = resolveTokens({ dataDir });
    expect(again).toEqual({ ...first, generated: false });
  });

  it('uses tokens that are given, and fills in only the missing one', () => {
    const dataDir = tempDir();
    const given = { workerToken: 'w'.repeat(20), adminToken: 'a'.repeat(20), viewerToken: 'v'.repeat(20) };
    expect(resolveTokens({ dataDir, ...given })).toEqual({ ...given, generated: false });
    const half = resolveTokens({ dataDir, workerToken: given.workerToken });
    expect(half.workerToken).toBe(given.workerToken);
    expect(half.adminToken).toHaveLength(43);
  });

  it('adds a viewer token to a tokens.json written before it existed, keeping the others', () => {
    const dataDir = tempDir();
    const { tokensFile } = resolveTokens({ dataDir });
    const old = { workerToken: 'w'.repeat(43), adminToken: 'a'.repeat(43) };
    writeFileSync(tokensFile!, JSON.stringify(old));
    const upgraded = resolveTokens({ dataDir });
    expect(upgraded).toMatchObject({ ...old, generated: true });
    expect(upgraded.viewerToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.parse(readFileSync(tokensFile!, 'utf8'))).toEqual({
      ...old,
      viewerToken: upgraded.viewerToken,
    });
    // Tokens given in the environment are used, and never replace what the file holds.
    const given = resolveTokens({ dataDir, workerToken: 'g'.repeat(20) });
    expect(given).toMatchObject({
      workerToken: 'g'.repeat(20),
      viewerToken: upgraded.viewerToken,
      generated: false,
    });
    expect(JSON.parse(readFileSync(tokensFile!, 'utf8')).workerToken).toBe(old.workerToken);
  });

  it('refuses short or equal tokens and a broken tokens.json, and tightens loose permissions', () => {
    const dataDir = tempDir();
    expect(() => resolveTokens({ dataDir, workerToken: 'short' })).toThrow(/at least 16/);
    expect(() => resolveTokens({ dataDir, workerToken: 'x'.repeat(20), adminToken: 'x'.repeat(20) })).toThrow(
      /must differ/,
    );
    expect(() => resolveTokens({ dataDir, adminToken: 'x'.repeat(20), viewerToken: 'x'.repeat(20) })).toThrow(
      /viewer token must differ/,
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
