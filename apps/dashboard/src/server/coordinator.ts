import 'server-only';
import { ChorusError, createHttpClient, HttpError, type HttpClient } from '@chorus/protocol';
import { dashboardServer } from './repositories';

/**
 * libs/protocol's typed HTTP client on the coordinator (never cached by Next), reading with the
 * viewer token; launch and cancel pass the admin token the user typed. Reads go to the database;
 * the coordinator is asked only for what it alone can do: launch, cancel, what-if.
 */
export function coordinatorApi(): HttpClient {
  const { coordinatorUrl, viewerToken } = dashboardServer().env;
  return createHttpClient({
    baseUrl: coordinatorUrl,
    ...(viewerToken !== undefined && { token: viewerToken }),
    init: { cache: 'no-store' },
  });
}

/** A failed call as the status and message the dashboard shows; `needs` says what the call was for. */
export function coordinatorFailure(error: unknown, needs = ''): { status: number; message: string } {
  if (error instanceof HttpError) return { status: error.status, message: error.reason };
  const url = dashboardServer().env.coordinatorUrl;
  if (error instanceof ChorusError && error.code === 'unavailable') {
    const reason = error.cause instanceof Error ? error.cause.message : error.message;
    return {
      status: 503,
      message: `The coordinator at ${url} cannot be reached (${reason})${needs}. Is it running?`,
    };
  }
  // The client refused the token before sending it (its message never quotes the token).
  if (error instanceof ChorusError && error.code === 'unauthorized')
    return { status: 401, message: error.message };
  if (error instanceof ChorusError) {
    return {
      status: 502,
      message: `the coordinator answered in an unexpected shape (another Chorus version?): ${error.message}`,
    };
  }
  throw error;
}
