import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Namespace, type Socket } from 'socket.io';
import {
  PROTOCOL_VERSION,
  WORKERS_NAMESPACE,
  WorkerHandshakeSchema,
  type CoordinatorToWorkerEvents,
  type WorkerHandshake,
  type WorkerToCoordinatorEvents,
} from '@chorus/protocol';

/**
 * A real socket.io server speaking the `/workers` side of the protocol, for tests that need only
 * a few events (the handlers are the test's). Checks the handshake as the coordinator does.
 */
export type TestWorkerSocket = Socket<WorkerToCoordinatorEvents, CoordinatorToWorkerEvents>;

export interface TestServer {
  url: string;
  port: number;
  nsp: Namespace<WorkerToCoordinatorEvents, CoordinatorToWorkerEvents>;
  handshakes: WorkerHandshake[];
  /** Handshakes seen, accepted or refused. */
  attempts(): number;
  close(): Promise<void>;
}

export async function startTestServer(options: {
  token: string;
  port?: number;
  onConnection: (socket: TestWorkerSocket) => void;
}): Promise<TestServer> {
  const http: HttpServer = createServer();
  const io = new Server<WorkerToCoordinatorEvents, CoordinatorToWorkerEvents>(http);
  const nsp = io.of(WORKERS_NAMESPACE);
  const handshakes: WorkerHandshake[] = [];
  let attempts = 0;
  nsp.use((socket, next) => {
    attempts++;
    const parsed = WorkerHandshakeSchema.safeParse(socket.handshake.auth);
    const fail = (code: string, message: string) =>
      next(Object.assign(new Error(message), { data: { code } }));
    if (!parsed.success) return fail('invalid-input', `invalid handshake: ${parsed.error.message}`);
    if (parsed.data.token !== options.token) return fail('unauthorized', 'unauthorized: wrong worker token');
    if (parsed.data.protocolVersion !== PROTOCOL_VERSION)
      return fail('invalid-input', 'protocol version mismatch');
    handshakes.push(parsed.data);
    next();
  });
  nsp.on('connection', options.onConnection);
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    nsp,
    handshakes,
    attempts: () => attempts,
    close: () => io.close(),
  };
}

/** Polls `check` until it stops throwing, or fails with its last error after `timeoutMs`. */
export async function expectEventually(check: () => void | Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
