/**
 * Who may call what, generated from the tables of libs/protocol: every route of HTTP_ROUTES and
 * every namespace of SOCKET_NAMESPACES is tried without a token, with a token that is none of ours,
 * with each of the three tokens; a route added to the table is covered without touching this file.
 *
 * The coordinator binds 0.0.0.0 and the test connects to 127.0.0.1: the rule is about the address
 * the coordinator BINDS (reachable from the network), never about where a request comes from (a
 * reverse proxy on the same machine makes remote requests arrive from loopback). Tokens guard it
 * while it is bound there.
 */
import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import {
  ACCESS_TOKENS,
  DASHBOARD_NAMESPACE,
  DASHBOARD_TICKET_TTL_MS,
  HTTP_ROUTES,
  openWithoutAuth,
  SOCKET_NAMESPACES,
  signDashboardTicket,
  TOKEN_KINDS,
  WORKERS_NAMESPACE,
  type AccessLevel,
  type RouteSpec,
  type TokenKind,
} from '@chorus/protocol';
import type { RunningCoordinator } from './coordinator';
import { handshake, launchRun, withCoordinator } from './testing/harness';

type Caller = TokenKind | 'none' | 'stranger';
const STRANGER = 'not-a-token-of-this-coordinator-0123';

function tokenOf(coordinator: RunningCoordinator, caller: Caller): string | undefined {
  if (caller === 'none') return undefined;
  if (caller === 'stranger') return STRANGER;
  return { viewer: coordinator.viewerToken, admin: coordinator.adminToken, worker: coordinator.workerToken }[
    caller
  ];
}

/** The HTTP status of a route called as `caller` (path params `1`, a POST with `{}`: auth runs first). */
async function statusOf(coordinator: RunningCoordinator, spec: RouteSpec, caller: Caller): Promise<number> {
  const token = tokenOf(coordinator, caller);
  const response = await fetch(new URL(spec.path.replace(/:[A-Za-z0-9_]+/g, '1'), coordinator.url), {
    method: spec.method,
    headers: {
      ...(token !== undefined && { authorization: `Bearer ${token}` }),
      ...(spec.method === 'POST' && { 'content-type': 'application/json' }),
    },
    ...(spec.method === 'POST' && { body: '{}' }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** How each namespace takes its credentials; a namespace missing here fails the test below. */
const SOCKET_AUTH: Record<string, (token: string | undefined) => Record<string, unknown>> = {
  [WORKERS_NAMESPACE]: (token) => {
    const { token: _default, ...rest } = handshake();
    return token === undefined ? rest : { ...rest, token };
  },
  [DASHBOARD_NAMESPACE]: (token) => (token === undefined ? {} : { token }),
};

/** Connects to a namespace; resolves with null when accepted, the refusal's code otherwise. */
async function connectCode(
  url: string,
  namespace: string,
  auth: Record<string, unknown>,
): Promise<string | null> {
  const socket = io(`${url}${namespace}`, {
    auth,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  try {
    return await new Promise<string | null>((resolve) => {
      socket.once('connect', () => resolve(null));
      socket.once('connect_error', (error: Error & { data?: { code?: string } }) =>
        resolve(error.data?.code ?? error.message),
      );
    });
  } finally {
    socket.close();
  }
}

/** Every (entry, caller) pair with what the caller must get: 401, 403 or in. */
function cases(levels: Array<[string, AccessLevel]>, requireAuth: boolean) {
  return levels.flatMap(([name, level]) =>
    (['none', 'stranger', ...TOKEN_KINDS] as Caller[]).map((caller) => {
      const accepted =
        (caller !== 'none' && caller !== 'stranger' && ACCESS_TOKENS[level].includes(caller)) ||
        (!requireAuth && openWithoutAuth(level));
      const expected = accepted ? 'in' : caller === 'none' || caller === 'stranger' ? 401 : 403;
      return { name, level, caller, expected } as const;
    }),
  );
}

const routeLevels = Object.entries(HTTP_ROUTES).map(([name, spec]: [string, RouteSpec]) => [
  name,
  spec.auth,
]) as Array<[string, AccessLevel]>;
const namespaceLevels = Object.entries(SOCKET_NAMESPACES) as Array<[string, AccessLevel]>;

describe('bound beyond loopback (0.0.0.0): every route and namespace needs its token', () => {
  const fixture = withCoordinator({ host: '0.0.0.0' });

  it('says reads need a token', () => {
    expect(fixture.coordinator.authRequired).toBe(true);
  });

  it.each(cases(routeLevels, true))(
    '$name ($level) as $caller: $expected',
    async ({ name, caller, expected }) => {
      const status = await statusOf(
        fixture.coordinator,
        HTTP_ROUTES[name as keyof typeof HTTP_ROUTES],
        caller,
      );
      if (expected === 'in') expect([401, 403]).not.toContain(status);
      else expect(status).toBe(expected);
    },
  );

  it.each(cases(namespaceLevels, true))(
    'namespace $name ($level) as $caller: $expected',
    async ({ name, caller, expected }) => {
      const auth = SOCKET_AUTH[name];
      if (!auth) throw new Error(`no way to authenticate on ${name}: add it to SOCKET_AUTH`);
      const code = await connectCode(
        fixture.coordinator.url,
        name,
        auth(tokenOf(fixture.coordinator, caller)),
      );
      const codeOf = { 401: 'unauthorized', 403: 'forbidden' } as const;
      // The workers namespace answers any token but its own with `unauthorized` (it checks one token).
      if (expected === 'in') expect(code).toBeNull();
      else if (name === WORKERS_NAMESPACE) expect(code).toBe('unauthorized');
      else expect(code).toBe(codeOf[expected]);
    },
  );
});

describe('dashboard tickets on a coordinator bound beyond loopback', () => {
  const fixture = withCoordinator({ host: '0.0.0.0' });
  const ticketAt = async (now: number, viewer = fixture.coordinator.viewerToken) =>
    (await signDashboardTicket(viewer, now)).ticket;

  it('lets a socket with a valid ticket in, and it receives notifications', async () => {
    const socket = io(`${fixture.coordinator.url}${DASHBOARD_NAMESPACE}`, {
      auth: { ticket: await ticketAt(Date.now()) },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      const changed = new Promise<void>((resolve) => socket.once('runs:changed', () => resolve()));
      await launchRun(fixture.coordinator, {
        dataset: 'synthetic',
        members: 1,
        epochs: 1,
        trainLimit: 200,
        seed: 1,
      });
      await changed;
    } finally {
      socket.close();
    }
  });

  it('refuses a forged, expired or malformed ticket', async () => {
    const url = fixture.coordinator.url;
    const forged = await ticketAt(Date.now(), 'someone-elses-viewer-token-0123');
    const expired = await ticketAt(Date.now() - 2 * DASHBOARD_TICKET_TTL_MS);
    for (const ticket of [forged, expired, 'v1.123.abc']) {
      expect(await connectCode(url, DASHBOARD_NAMESPACE, { ticket })).toBe('unauthorized');
    }
    expect(await connectCode(url, DASHBOARD_NAMESPACE, { ticket: 42 })).toBe('invalid-input');
  });
});

describe('bound to loopback: reads open, control and downloads still need their token', () => {
  const fixture = withCoordinator();

  it.each(cases(routeLevels, false))(
    '$name ($level) as $caller: $expected',
    async ({ name, caller, expected }) => {
      const status = await statusOf(
        fixture.coordinator,
        HTTP_ROUTES[name as keyof typeof HTTP_ROUTES],
        caller,
      );
      if (expected === 'in') expect([401, 403]).not.toContain(status);
      else expect(status).toBe(expected);
    },
  );
});

describe('bound to loopback with requireAuth', () => {
  const fixture = withCoordinator({ requireAuth: true });

  it('refuses reads without a token and takes the viewer token', async () => {
    expect(fixture.coordinator.authRequired).toBe(true);
    expect(await statusOf(fixture.coordinator, HTTP_ROUTES.listRuns, 'none')).toBe(401);
    expect(await statusOf(fixture.coordinator, HTTP_ROUTES.listRuns, 'viewer')).toBe(200);
    expect(await connectCode(fixture.coordinator.url, DASHBOARD_NAMESPACE, {})).toBe('unauthorized');
  });
});
