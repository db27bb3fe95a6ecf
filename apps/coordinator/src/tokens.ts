import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ChorusError,
  MIN_TOKEN_LENGTH,
  TOKENS_FILE,
  TokensFileSchema,
  type TokensFile,
} from '@chorus/protocol';

export { TOKENS_FILE };

export interface Tokens {
  workerToken: string;
  adminToken: string;
  /** Read-only access: reads and the `/dashboard` namespace (README "Operating Chorus", "Tokens"). */
  viewerToken: string;
  /** Where the tokens are kept when any of them was generated (or read back). */
  tokensFile?: string;
  /** True when this call generated at least one token. */
  generated: boolean;
}

type TokenValues = Pick<Tokens, 'workerToken' | 'adminToken' | 'viewerToken'>;
const NAMES = ['workerToken', 'adminToken', 'viewerToken'] as const;

/**
 * The coordinator never runs open: tokens given (environment or options) are used as they are;
 * missing ones are read from `<dataDir>/tokens.json`, or generated there (mode 0600) on first start
 * and reused on every restart, so workers keep working. A tokens.json written before the viewer
 * token existed gets one added; the tokens it holds stay as they are.
 */
export function resolveTokens(options: {
  dataDir: string;
  workerToken?: string | undefined;
  adminToken?: string | undefined;
  viewerToken?: string | undefined;
}): Tokens {
  const given = {
    workerToken: options.workerToken,
    adminToken: options.adminToken,
    viewerToken: options.viewerToken,
  };
  for (const [name, value] of Object.entries(given)) {
    if (value !== undefined && value.length < MIN_TOKEN_LENGTH) {
      throw new ChorusError('invalid-input', `${name} must be at least ${MIN_TOKEN_LENGTH} characters`);
    }
  }
  if (given.workerToken !== undefined && given.adminToken !== undefined && given.viewerToken !== undefined) {
    const all = {
      workerToken: given.workerToken,
      adminToken: given.adminToken,
      viewerToken: given.viewerToken,
    };
    assertDistinct(all);
    return { ...all, generated: false };
  }

  const file = join(options.dataDir, TOKENS_FILE);
  const stored = readTokensFile(file);
  const missing = NAMES.filter((name) => (given[name] ?? stored?.[name]) === undefined);
  const tokens: TokenValues = {
    workerToken: given.workerToken ?? stored?.workerToken ?? generateToken(),
    adminToken: given.adminToken ?? stored?.adminToken ?? generateToken(),
    viewerToken: given.viewerToken ?? stored?.viewerToken ?? generateToken(),
  };
  assertDistinct(tokens);
  const generated = missing.length > 0;
  if (generated) {
    // What the file already holds stays; what it lacks is filled in (with a given token, as before).
    writeTokensFile(file, {
      workerToken: stored?.workerToken ?? tokens.workerToken,
      adminToken: stored?.adminToken ?? tokens.adminToken,
      viewerToken: stored?.viewerToken ?? tokens.viewerToken,
    });
  }
  return { ...tokens, tokensFile: file, generated };
}

/** 32 random bytes, base64url: 43 characters. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Constant-time token check: both sides are hashed first, so neither the comparison time nor an
 * early length mismatch says anything about the expected token.
 */
export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length === 0) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

function assertDistinct(tokens: TokenValues): void {
  if (tokens.workerToken === tokens.adminToken) {
    throw new ChorusError('invalid-input', 'the worker and admin tokens must differ');
  }
  if (tokens.viewerToken === tokens.adminToken || tokens.viewerToken === tokens.workerToken) {
    throw new ChorusError('invalid-input', 'the viewer token must differ from the worker and admin tokens');
  }
}

function readTokensFile(file: string): TokensFile | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ChorusError(
      'invalid-input',
      `${file} is not valid JSON (${(error as Error).message}): fix or delete it`,
    );
  }
  const result = TokensFileSchema.safeParse(parsed);
  if (!result.success) {
    throw new ChorusError(
      'invalid-input',
      `${file} must hold {"workerToken","adminToken","viewerToken"} of ≥ ${MIN_TOKEN_LENGTH} characters each (viewerToken may be missing: it is then added): fix or delete it`,
    );
  }
  // Someone loosened the permissions: tighten them again, the file holds secrets.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return result.data;
}

function writeTokensFile(file: string, tokens: Required<TokensFile>): void {
  mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600); // the umask may have removed bits, never added: make it exact
  renameSync(tmp, file);
}
