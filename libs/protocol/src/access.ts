import { z } from 'zod';
import { DASHBOARD_NAMESPACE, WORKERS_NAMESPACE } from './sockets';

/**
 * Who may call what: the one rule behind every HTTP route (HTTP_ROUTES' `auth`) and every socket.io
 * namespace (SOCKET_NAMESPACES). The coordinator enforces it in one place (apps/coordinator
 * src/http/auth.ts, src/sockets/namespace-auth.ts); README "Operating Chorus" says it for users.
 */

/** The three tokens of `<dataDir>/tokens.json` (or CHORUS_*_TOKEN). */
export const TOKEN_KINDS = ['viewer', 'admin', 'worker'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

/**
 * What a route or namespace asks for:
 * - `viewer`: reads. The viewer or the admin token; open without a token when the coordinator is
 *   bound to loopback only and not started with `--require-auth`.
 * - `admin`: control actions (launch, cancel). The admin token, always.
 * - `worker`: what only workers fetch (dataset bundles, checkpoints). The worker token, always.
 * - `any`: liveness (`/api/health`, which workers and load balancers ask too). Any of the three
 *   tokens; open like `viewer` on loopback.
 */
export const ACCESS_LEVELS = ['viewer', 'admin', 'worker', 'any'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** The tokens each level accepts. */
export const ACCESS_TOKENS: Record<AccessLevel, readonly TokenKind[]> = {
  viewer: ['viewer', 'admin'],
  admin: ['admin'],
  worker: ['worker'],
  any: ['viewer', 'admin', 'worker'],
};

/** Whether a level lets a request through without a token when the coordinator does not require auth. */
export function openWithoutAuth(level: AccessLevel): boolean {
  return level === 'viewer' || level === 'any';
}

/**
 * The socket.io namespaces and their access level. `/workers` always needs the worker token (in
 * its handshake); `/dashboard` takes a viewer or admin token (`auth.token`) or a dashboard ticket
 * (`auth.ticket`, dashboard-ticket.ts).
 */
export const SOCKET_NAMESPACES = {
  [WORKERS_NAMESPACE]: 'worker',
  [DASHBOARD_NAMESPACE]: 'viewer',
} as const satisfies Record<string, AccessLevel>;

/** `io(url + '/dashboard', { auth })`: a token of the viewer level, or a ticket; neither on an open loopback coordinator. */
export const DashboardAuthSchema = z.object({
  token: z.string().min(1).max(512).optional(),
  ticket: z.string().min(1).max(512).optional(),
});
export type DashboardAuth = z.infer<typeof DashboardAuthSchema>;

/**
 * Whether `host` (the address a server BINDS) is reachable from this machine only: 127.0.0.0/8,
 * ::1, `localhost`. 0.0.0.0, :: and every other address are reachable from the network. The rule is
 * about the bind address, never the peer's: a reverse proxy on the same machine makes remote
 * requests arrive from 127.0.0.1.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (/^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
