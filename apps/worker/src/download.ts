import { ChorusError } from '@chorus/protocol';

export interface DownloadOptions {
  /** Worker token, sent as a Bearer token. */
  token: string;
  signal?: AbortSignal;
  /** Called as bytes arrive (total is null when the server sends no Content-Length). */
  onProgress?: (received: number, total: number | null) => void;
  /** Attempts for network errors and 5xx answers (default 3). */
  attempts?: number;
  /** Added to the request: a private CA's dispatcher (tls-trust.ts). */
  init?: RequestInit;
}

/**
 * GETs `url` from the coordinator with the worker token and returns the body. 401/403/404 fail at
 * once with a message saying why; network errors and 5xx answers are retried with a short backoff.
 */
export async function downloadBytes(url: string, options: DownloadOptions): Promise<Uint8Array> {
  const attempts = Math.max(1, options.attempts ?? 3);
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await downloadOnce(url, options);
    } catch (error) {
      options.signal?.throwIfAborted();
      if (error instanceof ChorusError && error.code !== 'unavailable') throw error;
      lastError = error;
      if (attempt < attempts) await new Promise((r) => setTimeout(r, 500 * 2 ** (attempt - 1)));
    }
  }
  throw lastError instanceof ChorusError
    ? lastError
    : new ChorusError('unavailable', `cannot download ${url}: ${describe(lastError)}`, { cause: lastError });
}

async function downloadOnce(url: string, options: DownloadOptions): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, {
      ...options.init,
      headers: { authorization: `Bearer ${options.token}` },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    throw new ChorusError('unavailable', `cannot download ${url}: ${describe(error)}`, { cause: error });
  }
  if (!response.ok) {
    const text = (await response.text().catch(() => '')).slice(0, 300);
    const why = `GET ${url} answered ${response.status}${text ? `: ${text}` : ''}`;
    if (response.status === 401 || response.status === 403) {
      throw new ChorusError('unauthorized', `${why} (is the worker token right?)`);
    }
    if (response.status === 404) throw new ChorusError('not-found', why);
    throw new ChorusError(response.status >= 500 ? 'unavailable' : 'internal', why);
  }
  const header = response.headers.get('content-length');
  const total = header !== null && /^\d+$/.test(header) ? Number(header) : null;
  if (response.body === null) return new Uint8Array(await response.arrayBuffer());
  const parts: Uint8Array[] = [];
  let received = 0;
  // With a length, one buffer filled in place (a checkpoint of hundreds of MB is not held twice).
  const whole = total !== null ? new Uint8Array(total) : undefined;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (whole !== undefined && received + value.length <= whole.length) whole.set(value, received);
    else parts.push(value);
    received += value.length;
    options.onProgress?.(received, total);
  }
  if (whole !== undefined) {
    if (received !== whole.length || parts.length > 0)
      throw new ChorusError(
        'unavailable',
        `GET ${url}: ${received} bytes arrived, content-length said ${whole.length}`,
      );
    return whole;
  }
  const out = new Uint8Array(received);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}
