'use server';

import {
  ChorusError,
  formatIssues,
  HttpError,
  parseRunConfig,
  PredictRequestSchema,
  RunConfigError,
  type PredictAnswer,
} from '@chorus/protocol';
import { adminTokenRefused, ENTER_ADMIN_TOKEN } from '../lib/admin-token-words';
import { coordinatorApi, coordinatorFailure } from './coordinator';

/**
 * Control actions, forwarded to the coordinator's HTTP API with the admin token the user typed.
 * The dashboard server never stores the token; it travels with each request (as the user's
 * `Authorization: Bearer` to the coordinator), so read views never hold a secret. The
 * coordinator's refusal of the token (401, 403) is said in the page's words (lib/admin-token-words.ts).
 */
export type ActionResult<T = object> = ({ ok: true } & T) | { ok: false; status: number; message: string };

async function forward<T>(token: string, call: (token: string) => Promise<T>): Promise<ActionResult<T>> {
  if (typeof token !== 'string' || token.trim() === '')
    return { ok: false, status: 401, message: ENTER_ADMIN_TOKEN };
  try {
    return { ok: true, ...(await call(token.trim())) };
  } catch (error) {
    if (error instanceof HttpError && (error.status === 401 || error.status === 403))
      return { ok: false, status: error.status, message: adminTokenRefused(error.status) };
    return { ok: false, ...coordinatorFailure(error) };
  }
}

export async function launchRun(token: string, config: unknown): Promise<ActionResult<{ id: string }>> {
  // The coordinator's own check (the same schema and message), so the typed client sends a run config.
  let body;
  try {
    body = parseRunConfig(config ?? {});
  } catch (error) {
    if (error instanceof RunConfigError) return { ok: false, status: 400, message: error.message };
    throw error;
  }
  return forward(token, (bearer) => coordinatorApi().createRun({ body }, { token: bearer }));
}

export async function cancelRun(token: string, runId: string): Promise<ActionResult<{ status: string }>> {
  if (typeof runId !== 'string' || !/^[\w-]{1,64}$/.test(runId)) {
    return { ok: false, status: 400, message: new ChorusError('invalid-input', 'not a run id').message };
  }
  return forward(token, (bearer) => coordinatorApi().cancelRun({ params: { id: runId } }, { token: bearer }));
}

/**
 * The "try it" panel's prediction: raw rows sent to the coordinator's `POST /api/runs/:id/predict`
 * (libs/protocol predict.ts) with the admin token the user typed; the answer goes back as the
 * coordinator gave it.
 */
export async function predictRun(
  token: string,
  runId: string,
  rows: unknown,
): Promise<ActionResult<{ answer: PredictAnswer }>> {
  if (typeof runId !== 'string' || !/^[\w-]{1,64}$/.test(runId)) {
    return { ok: false, status: 400, message: new ChorusError('invalid-input', 'not a run id').message };
  }
  const body = PredictRequestSchema.safeParse({ rows });
  if (!body.success) {
    return { ok: false, status: 400, message: `not rows of numbers: ${formatIssues(body.error)}` };
  }
  return forward(token, async (bearer) => ({
    answer: await coordinatorApi().predictRun(
      { params: { id: runId }, body: body.data },
      { token: bearer, signal: AbortSignal.timeout(60_000) },
    ),
  }));
}

/** Drains a worker (README "Health and draining"): it hands its members back and exits. */
export async function drainWorker(
  token: string,
  workerId: string,
): Promise<ActionResult<{ members: number }>> {
  if (typeof workerId !== 'string' || !/^[\w-]{1,64}$/.test(workerId)) {
    return { ok: false, status: 400, message: new ChorusError('invalid-input', 'not a worker id').message };
  }
  return forward(token, (bearer) =>
    coordinatorApi().drainWorker({ params: { id: workerId } }, { token: bearer }),
  );
}
