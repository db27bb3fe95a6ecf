import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChorusError, TOKENS_FILE, TokensFileSchema, type TokensFile } from '@chorus/protocol';

/** The default data dir of a local coordinator, as `chorus coordinator` uses it. */
export const DEFAULT_DATA_DIR = '.chorus';

/**
 * The tokens a coordinator on this machine generated into `<dataDir>/tokens.json`, or undefined
 * when there is no such file; a file that does not hold them is an error naming it.
 */
export async function readTokensFile(dataDir: string): Promise<(TokensFile & { file: string }) | undefined> {
  const file = join(dataDir, TOKENS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ChorusError('invalid-input', `cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const result = TokensFileSchema.safeParse(parsed);
  if (!result.success) {
    throw new ChorusError(
      'invalid-input',
      `${file} does not hold the coordinator's tokens {"workerToken","adminToken"}`,
    );
  }
  return { ...result.data, file };
}
