'use server';

import { ChorusError } from '@chorus/protocol';
import { dashboardServer } from './repositories';

/**
 * Control actions, forwarded to the coordinator's HTTP API with the admin token the user typed.
 * The dashboard server never stores the token; it travels with each request (as the user's
 * `Authorization: Bearer` to the coordinator), so read views never hold a secret.
 */
export type ActionResult<T = object> = ({ ok: true } & T) | { ok: false; status: number; message: string };

async function forward<T>(path: string, token: string, body?: unknown): Promise<ActionResult<T>> {
  if (typeof token !== 'string' || token.trim() === '') {
    return { ok: false, status: 401, message: 'Enter the admin token first (chorus coordinator printed where it is stored).' };
  }
  const { coordinatorUrl } = dashboardServer().env;
  let response: Response;
  try {
    response = await fetch(`${coordinatorUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.trim()}`, 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
      cache: 'no-store',
    });
  } catch (error) {
    return {
      ok: false,
      status: 503,
      message: `The coordinator at ${coordinatorUrl} cannot be reached (${(error as Error).message}). Is it running?`,
    };
  }
  const payload = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const message = typeof payload.message === 'string' ? payload.message : `HTTP ${response.status}`;
    return { ok: false, status: response.status, message };
  }
  return { ok: true, ...(payload as T) };
}

export async function launchRun(token: string, config: unknown): Promise<ActionResult<{ id: string }>> {
  return forward<{ id: string }>('/api/runs', token, config);
}

export async function cancelRun(token: string, runId: string): Promise<ActionResult<{ status: string }>> {
  if (typeof runId !== 'string' || !/^[\w-]{1,64}$/.test(runId)) {
    return { ok: false, status: 400, message: new ChorusError('invalid-input', 'not a run id').message };
  }
  return forward<{ status: string }>(`/api/runs/${encodeURIComponent(runId)}/cancel`, token);
}
