import type { Command } from 'commander';
import { ChorusError, createHttpClient, type HttpClient } from '@chorus/protocol';
import { readTlsTrust } from '@chorus/worker';
import type { CliEnv } from './env';
import { DEFAULT_DATA_DIR, readTokensFile } from './tokens-file';

/** Where `chorus coordinator` listens by default. */
export const DEFAULT_COORDINATOR_URL = 'http://127.0.0.1:4000';
/** Where `chorus dashboard` (and `chorus demo`) serve the dashboard by default. */
export const DEFAULT_DASHBOARD_PORT = 3000;
export const DEFAULT_DASHBOARD_URL = `http://127.0.0.1:${DEFAULT_DASHBOARD_PORT}`;

export interface CoordinatorFlags {
  coordinator?: string;
  /** A PEM file of the private CA that signed the coordinator's certificate. */
  ca?: string;
  dataDir?: string;
}

/** What the `/dashboard` socket of `chorus run --wait` / `chorus logs -f` connects with. */
export interface SocketAccess {
  /** `{ token }` (a viewer or admin token) when there is one; read at each connection. */
  auth: () => { token?: string };
  ca?: string;
}

/** libs/protocol's client, with how to open the coordinator's socket on the same terms. */
export type CoordinatorClient = HttpClient & { readonly socket: SocketAccess };
export interface AdminTokenFlags {
  token?: string;
  dataDir?: string;
}

/** `--coordinator <url>` and `--ca <file>`, as every command that talks to a coordinator takes them. */
export function addCoordinatorOption(command: Command): Command {
  return command
    .option(
      '--coordinator <url>',
      `coordinator URL (env CHORUS_COORDINATOR_URL; default ${DEFAULT_COORDINATOR_URL})`,
    )
    .option(
      '--ca <file>',
      "PEM certificate of a private CA that signed the coordinator's TLS certificate (env CHORUS_CA)",
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

/**
 * libs/protocol's HTTP client on `--coordinator`, else CHORUS_COORDINATOR_URL, else the default;
 * trusting `--ca` (CHORUS_CA), and reading with `token` (a command's admin token), else the viewer
 * token (findReadToken): a coordinator bound beyond loopback answers no read without one.
 */
export async function coordinatorClient(
  flags: CoordinatorFlags,
  env: CliEnv,
  token?: string,
): Promise<CoordinatorClient> {
  const caFile = flags.ca ?? env.CHORUS_CA;
  const tls = caFile === undefined ? undefined : readTlsTrust(caFile);
  const readToken = token ?? (await findReadToken(flags, env));
  const client = createHttpClient({
    baseUrl: flags.coordinator ?? env.CHORUS_COORDINATOR_URL ?? DEFAULT_COORDINATOR_URL,
    ...(readToken !== undefined && { token: readToken }),
    ...(tls && { init: tls.fetchInit }),
  });
  const socket: SocketAccess = {
    auth: () => (readToken === undefined ? {} : { token: readToken }),
    ...(tls && { ca: tls.ca }),
  };
  return Object.assign(client, { socket });
}

/** A token that reads: CHORUS_VIEWER_TOKEN, CHORUS_ADMIN_TOKEN, or a local coordinator's tokens.json. */
export async function findReadToken(flags: { dataDir?: string }, env: CliEnv): Promise<string | undefined> {
  if (env.CHORUS_VIEWER_TOKEN ?? env.CHORUS_ADMIN_TOKEN)
    return env.CHORUS_VIEWER_TOKEN ?? env.CHORUS_ADMIN_TOKEN;
  const tokens = await readTokensFile(flags.dataDir ?? env.CHORUS_DATA_DIR ?? DEFAULT_DATA_DIR);
  return tokens?.viewerToken ?? tokens?.adminToken;
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
