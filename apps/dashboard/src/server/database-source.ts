import { readFileSync, statSync } from 'node:fs';
import { EmbeddedDatabaseFileSchema } from '@chorus/protocol';

export interface DatabaseSourceOptions<T> {
  /** The connection string the server was started with. */
  databaseUrl: string;
  /**
   * `<dataDir>/embedded-database.json` of the coordinator whose embedded database this is; unset for
   * an external Postgres (then the URL never changes).
   */
  descriptorFile?: string | undefined;
  /** Opens a client on a connection string. */
  connect(connectionString: string): T;
  /** Closes a client that has been replaced (its pool still points at the old server). */
  disconnect(client: T): Promise<unknown>;
  /** Told when the database moved (a coordinator restart puts the embedded one on another port). */
  onSwitch?: (connectionString: string) => void;
}

export interface DatabaseSource<T> {
  /** The client for the database the descriptor names now (a stat per call; re-read when it changed). */
  current(): T;
}

/**
 * Follows a coordinator's embedded database across restarts (README.md, "The dashboard"): every
 * call stats the descriptor, and when it was rewritten with another connection string, a client on
 * the new one replaces the old. A missing or half-written descriptor (the coordinator is down or
 * starting) keeps the current client, whose queries then fail until the coordinator is back.
 */
export function createDatabaseSource<T>(options: DatabaseSourceOptions<T>): DatabaseSource<T> {
  let connectionString = options.databaseUrl;
  let client = options.connect(connectionString);
  let seen = '';
  return {
    current() {
      if (options.descriptorFile === undefined) return client;
      const stamp = descriptorStamp(options.descriptorFile);
      if (stamp === null || stamp === seen) return client;
      const next = readDescriptor(options.descriptorFile);
      if (next === null) return client;
      seen = stamp;
      if (next !== connectionString) {
        const old = client;
        connectionString = next;
        client = options.connect(next);
        options.onSwitch?.(next);
        void options.disconnect(old).catch(() => {});
      }
      return client;
    },
  };
}

function descriptorStamp(file: string): string | null {
  try {
    const stat = statSync(file);
    return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
  } catch {
    return null;
  }
}

function readDescriptor(file: string): string | null {
  try {
    const parsed = EmbeddedDatabaseFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data.connectionString : null;
  } catch {
    return null;
  }
}
