import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChorusError } from '@chorus/protocol';

/** One answer of an operations endpoint. */
export interface OpsAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface OpsServer {
  /** e.g. http://127.0.0.1:9400 */
  url: string;
  close(): Promise<void>;
}

/**
 * A small HTTP server for process supervisors and Prometheus (`--health-port`, `--metrics-port`):
 * GET of the given paths, nothing else (404; 405 for other methods). Bound to 127.0.0.1 unless told.
 */
export async function startOpsServer(options: {
  host: string;
  port: number;
  routes: Record<string, () => Promise<OpsAnswer>>;
}): Promise<OpsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const route = options.routes[path];
    const send = (a: OpsAnswer) =>
      response
        .writeHead(a.status, { 'content-type': a.contentType })
        .end(request.method === 'HEAD' ? '' : a.body);
    if (route === undefined) {
      send({
        status: 404,
        contentType: 'text/plain',
        body: `no ${path} here: ${Object.keys(options.routes).join(', ')}\n`,
      });
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send({ status: 405, contentType: 'text/plain', body: 'GET only\n' });
      return;
    }
    route().then(send, (error: unknown) =>
      send({
        status: 500,
        contentType: 'text/plain',
        body: `${error instanceof Error ? error.message : String(error)}\n`,
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new ChorusError(
              'unavailable',
              `port ${options.port} on ${options.host} is already in use (--metrics-port/--health-port)`,
            )
          : error,
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
