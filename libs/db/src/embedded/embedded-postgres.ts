import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PgliteServer } from './pglite-server';

export interface EmbeddedPostgresOptions {
  /** Where PGlite keeps its data (created if missing), or `memory://` for a database that vanishes on close. */
  dataDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Connections the server accepts at once (default 32; a pool needs one per client it opens). */
  maxConnections?: number;
}

export interface RunningDatabase {
  connectionString: string;
  close(): Promise<void>;
}

export interface EmbeddedPostgres extends RunningDatabase {
  port: number;
  /** The PGlite instance behind the server (to run SQL in-process, or for a second server). */
  pglite: PGlite;
}

/**
 * Starts PGlite (Postgres compiled to WebAssembly, persisted under `dataDir`) behind a loopback
 * wire-protocol server that accepts several connections, so Prisma and pg pools use it like any
 * Postgres server. A lock file next to the data directory keeps a second process from opening the
 * same data (PGlite is single-process: two writers would corrupt it).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const inMemory = options.dataDir.startsWith('memory://');
  const dataDir = inMemory ? options.dataDir : resolve(options.dataDir);
  let unlock = () => {};
  if (!inMemory) {
    mkdirSync(dirname(dataDir), { recursive: true });
    unlock = lockDataDir(`${dataDir}.lock`);
  }
  let db: PGlite | undefined;
  let server: PgliteServer | undefined;
  try {
    db = await PGlite.create({ dataDir });
    server = new PgliteServer({
      db,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      maxConnections: options.maxConnections ?? 32,
    });
    const { host, port } = await server.start();
    const running = { db, server };
    let closed: Promise<void> | null = null;
    return {
      port,
      pglite: db,
      connectionString: `postgresql://postgres@${host.includes(':') ? `[${host}]` : host}:${port}/postgres?sslmode=disable`,
      close() {
        closed ??= (async () => {
          try {
            await running.server.stop();
            await running.db.close();
          } finally {
            unlock();
          }
        })();
        return closed;
      },
    };
  } catch (error) {
    await server?.stop().catch(() => {});
    await db?.close().catch(() => {});
    unlock();
    throw error;
  }
}

/** Takes `<dataDir>.lock` for this process; a lock left by a process that has died is taken over. */
function lockDataDir(lockPath: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new Error(
          `the embedded database ${lockPath.slice(0, -'.lock'.length)} is in use by process ${pid}` +
            (pid === process.pid ? ' (this one)' : '') +
            `; stop it first, or set DATABASE_URL to use a Postgres server`,
        );
      }
      rmSync(lockPath, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not lock ${lockPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
