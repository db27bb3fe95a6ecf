import {
  encodeDashboardAnswer,
  type DashboardAnswer,
  type DashboardErrorBody,
  type DashboardRouteName,
} from '@chorus/protocol';

/** Shared by the dashboard's route handlers. Run ids are cuids (letters, digits, _ and -). */
export const runIdOf = (id: string): string | null => (/^[\w-]{1,64}$/.test(id) ? id : null);

/** An error answer: libs/protocol's DashboardErrorBodySchema, which the browser reads its message from. */
export const jsonError = (status: number, message: string): Response =>
  Response.json({ ok: false, message } satisfies DashboardErrorBody, {
    status,
    headers: { 'cache-control': 'no-store' },
  });

/**
 * A route's answer encoded with its schema (libs/protocol DASHBOARD_ROUTES), never cached. One that
 * does not match is answered 500 with the message naming the route and the field, not sent as is.
 */
export function jsonAnswer<N extends DashboardRouteName>(name: N, value: DashboardAnswer<N>): Response {
  let body: unknown;
  try {
    body = encodeDashboardAnswer(name, value);
  } catch (error) {
    return jsonError(500, (error as Error).message);
  }
  return Response.json(body, { headers: { 'cache-control': 'no-store' } });
}
