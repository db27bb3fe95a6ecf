import net from 'node:net';

/**
 * A TCP hop between the coordinator and Postgres that a test turns bad: `stall` stops every byte
 * (a database that hangs: a stopped container, a dead network path), `refuse` closes every
 * connection and refuses new ones (a stopped server), `pass` heals it.
 */
export interface DatabaseProxy {
  /** The connection string through the proxy. */
  readonly url: string;
  set(mode: 'pass' | 'stall' | 'refuse'): void;
  close(): Promise<void>;
}

export async function startDatabaseProxy(connectionString: string): Promise<DatabaseProxy> {
  const target = new URL(connectionString);
  const upstreamPort = Number(target.port || 5432);
  let mode: 'pass' | 'stall' | 'refuse' = 'pass';
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket | undefined; start: () => void }>();

  const server = net.createServer((client) => {
    if (mode === 'refuse') return void client.destroy();
    const pair = {
      client,
      upstream: undefined as net.Socket | undefined,
      start() {
        if (this.upstream) return;
        const upstream = net.connect(upstreamPort, target.hostname);
        this.upstream = upstream;
        client.pipe(upstream);
        upstream.pipe(client);
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => client.destroy());
      },
    };
    pairs.add(pair);
    client.on('error', () => pair.upstream?.destroy());
    client.on('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    if (mode === 'pass') pair.start();
    else client.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(connectionString);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);

  return {
    url: url.toString(),
    set(next) {
      mode = next;
      for (const pair of pairs) {
        if (next === 'refuse') {
          pair.client.destroy();
          pair.upstream?.destroy();
        } else if (next === 'stall') {
          // Unpiped and paused: bytes wait in the kernel's buffers, nothing flows either way.
          if (pair.upstream) {
            pair.client.unpipe(pair.upstream);
            pair.upstream.unpipe(pair.client);
            pair.upstream.pause();
          }
          pair.client.pause();
        } else if (pair.upstream) {
          pair.client.pipe(pair.upstream);
          pair.upstream.pipe(pair.client);
        } else {
          pair.start();
        }
      }
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
