import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import {
  BATCH_END,
  CANCEL_REQUEST,
  CYCLE_END,
  errorResponse,
  GSSENC_REQUEST,
  SSL_REQUEST,
  SYNC,
} from './wire-protocol';

/*
 * A Postgres wire-protocol server in front of one PGlite instance, for several client
 * connections at once (a pg pool, Prisma's adapter).
 *
 * Why not @electric-sql/pglite-socket's PGLiteSocketServer: PGlite is a single Postgres session,
 * and that server multiplexes connections onto it one protocol *message* at a time. When a client's
 * Parse/Bind/Execute/Sync spans several TCP reads (a Bind carrying a few MB of predictions), another
 * connection's Parse runs in between and replaces the shared unnamed statement: we saw
 * "bind message supplies 2 parameters, but prepared statement "" requires 1" and silently lost
 * inserts under a pool of 6. Here a connection's messages run as whole batches (up to a Sync,
 * Query, Flush, password or function call message), and a connection that leaves the session inside a
 * transaction block, or mid extended-query cycle, keeps the session until it finishes: other
 * connections queue (FIFO) behind it.
 *
 * What remains shared between connections, unlike a real server: session state (SET, named
 * prepared statements, temp tables, session advisory locks, LISTEN). Chorus uses none of them
 * across connections. COPY … FROM STDIN is not supported.
 */

export interface PgliteServerOptions {
  db: PGlite;
  /** Loopback by default; PGlite has no authentication. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Further connections are refused with SQLSTATE 53300 (default 32). */
  maxConnections?: number;
  /**
   * A connection that holds the session (open transaction) and sends nothing for this long is
   * closed and its transaction rolled back, so one stuck client cannot stall every other (default 60 s).
   */
  idleInTransactionTimeoutMs?: number;
}

interface Batch {
  data: Uint8Array;
  last: string;
}

export class PgliteServer {
  readonly db: PGlite;
  readonly #host: string;
  readonly #port: number;
  readonly #maxConnections: number;
  readonly #idleTimeoutMs: number;
  #server: net.Server | null = null;
  readonly #connections = new Set<Connection>();
  readonly #sockets = new Set<net.Socket>();
  #owner: Connection | null = null;
  #waiters: Array<{ connection: Connection; grant: () => void }> = [];
  #address: { host: string; port: number } | null = null;

  constructor(options: PgliteServerOptions) {
    this.db = options.db;
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 0;
    this.#maxConnections = options.maxConnections ?? 32;
    this.#idleTimeoutMs = options.idleInTransactionTimeoutMs ?? 60_000;
  }

  /** Listens; resolves with the bound address (the real port when 0 was asked for). */
  async start(): Promise<{ host: string; port: number }> {
    if (this.#server) throw new Error('PgliteServer already started');
    await this.db.waitReady;
    const server = net.createServer((socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.#host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('PgliteServer: no TCP address');
    this.#address = { host: this.#host, port: address.port };
    return this.#address;
  }

  get address(): { host: string; port: number } {
    if (!this.#address) throw new Error('PgliteServer not started');
    return this.#address;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Stops listening and closes every connection (open transactions are rolled back). */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    const closing = [...this.#connections].map((connection) => connection.destroy());
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(closing);
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    if (!this.#server || this.#connections.size >= this.#maxConnections) {
      socket.on('error', () => socket.destroy());
      const message = `too many connections to the embedded database (max ${this.#maxConnections})`;
      socket.end(errorResponse('53300', message), () => socket.destroy());
      return;
    }
    const connection = new Connection(this, socket, this.#idleTimeoutMs);
    this.#connections.add(connection);
    socket.once('close', () => this.#connections.delete(connection));
  }

  /** Waits until `connection` holds the session. */
  acquire(connection: Connection): Promise<void> {
    if (this.#owner === connection) return Promise.resolve();
    if (this.#owner === null) {
      this.#owner = connection;
      return Promise.resolve();
    }
    return new Promise((grant) => this.#waiters.push({ connection, grant }));
  }

  release(connection: Connection): void {
    this.#waiters = this.#waiters.filter((w) => w.connection !== connection || (w.grant(), false));
    if (this.#owner !== connection) return;
    const next = this.#waiters.shift();
    this.#owner = next ? next.connection : null;
    next?.grant();
  }
}

class Connection {
  readonly #server: PgliteServer;
  readonly #socket: net.Socket;
  readonly #idleTimeoutMs: number;
  #chunks: Buffer[] = [];
  #length = 0;
  #started = false;
  #batch: Buffer[] = [];
  readonly #batches: Batch[] = [];
  #draining: Promise<void> | null = null;
  #closed = false;
  /** True while this connection keeps the session between batches. */
  #holding = false;
  #idleTimer: NodeJS.Timeout | null = null;

  constructor(server: PgliteServer, socket: net.Socket, idleTimeoutMs: number) {
    this.#server = server;
    this.#socket = socket;
    this.#idleTimeoutMs = idleTimeoutMs;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.once('close', () => void this.#onClose());
  }

  /** Closes the socket; resolves once the session is released. */
  async destroy(): Promise<void> {
    this.#socket.destroy();
    await this.#onClose();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    try {
      this.#parse();
    } catch (error) {
      this.#socket.end(errorResponse('08P01', error instanceof Error ? error.message : String(error)));
    }
  }

  /** The first `n` buffered bytes, without consuming them (joins chunks only when needed). */
  #peek(n: number): Buffer {
    const first = this.#chunks[0];
    if (first && first.length >= n) return first;
    const joined = Buffer.concat(this.#chunks, this.#length);
    this.#chunks = [joined];
    return joined;
  }

  #take(n: number): Buffer {
    const all = this.#peek(this.#length);
    const message = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#length = rest.length;
    return message;
  }

  #parse(): void {
    for (;;) {
      if (!this.#started) {
        if (this.#length < 8) return;
        const head = this.#peek(8);
        const length = head.readInt32BE(0);
        const code = head.readInt32BE(4);
        if (length < 8 || length > 10_000) throw new Error('invalid startup packet');
        if (this.#length < length) return;
        const message = this.#take(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          this.#socket.write('N'); // no encryption on loopback; the client goes on in plain text
        } else if (code === CANCEL_REQUEST) {
          this.#socket.end(); // cancelling a running query is not supported
          return;
        } else if (code >> 16 === 3) {
          this.#started = true;
          this.#enqueue({ data: message, last: 'startup' });
        } else {
          throw new Error(`unsupported frontend protocol ${code >> 16}.${code & 0xffff}`);
        }
        continue;
      }
      if (this.#length < 5) return;
      const head = this.#peek(5);
      const type = String.fromCharCode(head[0] ?? 0);
      const length = head.readInt32BE(1);
      if (length < 4) throw new Error('invalid message length');
      if (this.#length < length + 1) return;
      const message = this.#take(length + 1);
      if (type === 'X') {
        this.#socket.end(); // Terminate
        return;
      }
      this.#batch.push(message);
      if (BATCH_END.has(type)) {
        const data = this.#batch.length === 1 ? message : Buffer.concat(this.#batch);
        this.#batch = [];
        this.#enqueue({ data, last: type });
      }
    }
  }

  #enqueue(batch: Batch): void {
    this.#clearIdleTimer();
    this.#batches.push(batch);
    this.#kick();
  }

  #kick(): void {
    if (this.#draining) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = null;
      if (this.#closed) return;
      if (this.#batches.length > 0) this.#kick();
      else if (this.#holding) this.#armIdleTimer();
    });
  }

  async #drain(): Promise<void> {
    const { db } = this.#server;
    for (let batch = this.#batches.shift(); batch; batch = this.#batches.shift()) {
      await this.#server.acquire(this);
      if (this.#closed) {
        // Closed while queued: hand the session on, unless it is still inside our transaction
        // (then #cleanUp rolls it back first).
        if (!this.#holding) this.#server.release(this);
        return;
      }
      this.#holding = true;
      try {
        await db.runExclusive(() =>
          db.execProtocolRawStream(batch.data, {
            // PGlite hands out views of its wasm memory: copy before the next message reuses it.
            onRawData: (data) => {
              if (!this.#closed && data.length > 0) this.#socket.write(Buffer.from(data));
            },
          }),
        );
      } catch (error) {
        this.#socket.destroy(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (CYCLE_END.has(batch.last) && !db.isInTransaction()) {
        this.#holding = false;
        this.#server.release(this);
      }
    }
  }

  #armIdleTimer(): void {
    this.#clearIdleTimer();
    if (this.#idleTimeoutMs <= 0) return;
    this.#idleTimer = setTimeout(() => this.#socket.destroy(), this.#idleTimeoutMs);
    this.#idleTimer.unref();
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  #closing: Promise<void> | null = null;

  #onClose(): Promise<void> {
    this.#closing ??= this.#cleanUp();
    return this.#closing;
  }

  async #cleanUp(): Promise<void> {
    this.#closed = true;
    this.#clearIdleTimer();
    this.#batches.length = 0;
    await this.#draining;
    if (!this.#holding) {
      this.#server.release(this);
      return;
    }
    // The client left mid-transaction or mid extended-query cycle: end both before anyone else runs.
    const { db } = this.#server;
    try {
      await db.runExclusive(() => db.execProtocolRawStream(SYNC, { onRawData: () => {} }));
      if (db.isInTransaction()) await db.exec('ROLLBACK'); // exec takes PGlite's own locks
    } catch {
      // the database is closing
    } finally {
      this.#holding = false;
      this.#server.release(this);
    }
  }
}
