import type { Command } from 'commander';
import { ChorusError, createHttpClient, type HttpClient } from '@chorus/protocol';
import type { CliEnv } from './env';
import { DEFAULT_DATA_DIR, readTokensFile } from './tokens-file';

/** Where `chorus coordinator` listens by default. */
export const DEFAULT_COORDINATOR_URL = 'http://127.0.0.1:4000';
/** Where `chorus dashboard` (and `chorus demo`) serve the dashboard by default. */
export const DEFAULT_DASHBOARD_PORT = 3000;
export const DEFAULT_DASHBOARD_URL = `http://127.0.0.1:${DEFAULT_DASHBOARD_PORT}`;

export interface CoordinatorFlags {
  coordinator?: string;
}
export interface AdminTokenFlags {
  token?: string;
  dataDir?: string;
}

/** `--coordinator <url>`, as every command that talks to a coordinator takes it. */
export function addCoordinatorOption(command: Command): Command {
  return command.option(
    '--coordinator <url>',
    `coordinator URL (env CHORUS_COORDINATOR_URL; default ${DEFAULT_COORDINATOR_URL})`,
  );
}

/** `--token` and `--data-dir`: the admin token, or the local coordinator's tokens.json that holds it. */
export function addAdminTokenOptions(command: Command): Command {
  return command
    .option(
      '--token <admin-token>',
      "admin token (env CHORUS_ADMIN_TOKEN; else the local coordinator's tokens.json)",
    )
    .option(
      '--data-dir <dir>',
      `data dir of a local coordinator, to read its tokens.json (default ${DEFAULT_DATA_DIR})`,
    );
}

/** libs/protocol's HTTP client on `--coordinator`, else CHORUS_COORDINATOR_URL, else the default. */
export function coordinatorClient(flags: CoordinatorFlags, env: CliEnv): HttpClient {
  return createHttpClient({
    baseUrl: flags.coordinator ?? env.CHORUS_COORDINATOR_URL ?? DEFAULT_COORDINATOR_URL,
  });
}

/** The admin token: --token, CHORUS_ADMIN_TOKEN, or the tokens.json of a local coordinator (--data-dir). */
export async function findAdminToken(flags: AdminTokenFlags, env: CliEnv): Promise<string | undefined> {
  return (
    flags.token ??
    env.CHORUS_ADMIN_TOKEN ??
    (await readTokensFile(flags.dataDir ?? env.CHORUS_DATA_DIR ?? DEFAULT_DATA_DIR))?.adminToken
  );
}

/** The token, or an error saying where to find it; `action` is what needs it ("launching a run"). */
export function requireAdminToken(token: string | undefined, action: string): string {
  if (token) return token;
  throw new ChorusError(
    'unauthorized',
    `${action} needs the admin token: --token, CHORUS_ADMIN_TOKEN, or the tokens.json of a local ` +
      "coordinator (--data-dir); `npx chorus tokens --data-dir DIR` on the coordinator's machine prints it",
  );
}

/** A refusal for an unknown run, said as such; any other error as it is. */
export function explainRunError(error: unknown, client: HttpClient, runId: string): unknown {
  if (error instanceof ChorusError && error.code === 'not-found') {
    return new ChorusError(
      'not-found',
      `no run ${runId} on the coordinator at ${client.baseUrl} (\`chorus runs\` lists them)`,
    );
  }
  return error;
}

/** `<dashboard>/runs/<id>`: where the dashboard shows a run. */
export function runPageUrl(dashboardUrl: string, runId: string): string {
  return `${dashboardUrl.replace(/\/+$/, '')}/runs/${runId}`;
}
