import { randomUUID } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { WorkerSecretSchema } from '@chorus/protocol';

/**
 * The id a worker process registers under and the session secret the coordinator issued to that
 * id, kept together in the cache directory (README "Identity") so that a restarted process on the
 * same machine is the same worker to the coordinator (its Worker row and leases are its own).
 * Processes sharing a cache directory (one per GPU) must not share an id, so each holds one of the
 * numbered files `worker-ids/<n>.id` (mode 0600: the id's line, then the secret's) under a lock file
 * `<n>.lock` naming its host and pid; a lock whose process is gone (killed) is taken over. A file
 * without a secret (lost, or written before secrets) is not reused: the worker registers a new id.
 */

const DIR = 'worker-ids';
/** More processes than this on one cache directory get a fresh id each (not kept). */
const MAX_IDS = 64;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Locks this process holds (two workers of one process must not share an id either). */
const held = new Set<string>();

export interface WorkerIdentity {
  /** The id presented now (a new one after `renew`). */
  readonly workerId: string;
  /** The secret issued to `workerId`; null until the coordinator issued one. */
  readonly secret: string | null;
  /** Where the id is kept; null when none was free (the id then lasts this process only). */
  file: string | null;
  /** Keeps the secret the coordinator issued to `workerId` (written to `file`, mode 0600). */
  adopt(workerId: string, secret: string): Promise<void>;
  /** Drops the id and its secret for a new id (the coordinator refused them). */
  renew(): void;
  /** Frees the id for the next process. */
  release(): Promise<void>;
}

export async function claimWorkerId(cacheDir: string): Promise<WorkerIdentity> {
  const dir = join(cacheDir, DIR);
  await mkdir(dir, { recursive: true });
  const owner = `${hostname()} ${process.pid}`;
  for (let n = 0; n < MAX_IDS; n++) {
    const lock = join(dir, `${n}.lock`);
    if (held.has(lock) || !(await takeLock(lock, owner))) continue;
    held.add(lock);
    const file = join(dir, `${n}.id`);
    const [keptId = '', keptSecret = ''] = (await readFile(file, 'utf8').catch(() => '')).split('\n');
    const kept =
      UUID.test(keptId) && WorkerSecretSchema.safeParse(keptSecret).success
        ? { workerId: keptId, secret: keptSecret }
        : null;
    const release = async (): Promise<void> => {
      if (!held.delete(lock)) return;
      await unlink(lock).catch(() => undefined);
    };
    return identityIn(file, kept, release);
  }
  return identityIn(null, null, async () => undefined);
}

function identityIn(
  file: string | null,
  kept: { workerId: string; secret: string } | null,
  release: () => Promise<void>,
): WorkerIdentity {
  let workerId = kept?.workerId ?? randomUUID();
  let secret = kept?.secret ?? null;
  return {
    get workerId() {
      return workerId;
    },
    get secret() {
      return secret;
    },
    file,
    async adopt(id, issued) {
      if (id !== workerId) return; // issued to an id this worker has since given up
      secret = issued;
      if (file === null) return;
      // Written whole (owner-only), then renamed: a crash never leaves a half-written identity.
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, `${id}\n${issued}\n`, { mode: 0o600 });
      await chmod(temporary, 0o600); // the mode of an existing temporary file is not changed by writeFile
      await rename(temporary, file);
    },
    renew() {
      workerId = randomUUID();
      secret = null;
    },
    release,
  };
}

/** Creates `lock` for `owner`, or takes it over from a process of this host that is gone. */
async function takeLock(lock: string, owner: string): Promise<boolean> {
  for (let tries = 0; tries < 2; tries++) {
    try {
      const handle = await open(lock, 'wx');
      await handle.writeFile(owner);
      await handle.close();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const [host, pidText] = (await readFile(lock, 'utf8').catch(() => '')).split(' ');
    const pid = Number(pidText);
    // Another host's process (a shared directory) cannot be checked: leave its id alone.
    if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
    // Our own pid in a lock this process does not hold: a previous process in a container, where pids repeat.
    if (pid !== process.pid && isAlive(pid)) return false;
    await unlink(lock).catch(() => undefined);
  }
  return false;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
