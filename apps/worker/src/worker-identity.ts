import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * The id a worker process registers under, kept in the cache directory so that a restarted
 * process on the same machine is the same worker to the coordinator (its Worker row is reused,
 * not added). Processes sharing a cache directory (one per GPU) must not share an id, so each
 * holds one of the numbered ids `worker-ids/<n>.id` under a lock file `<n>.lock` naming its host
 * and pid; a lock whose process is gone (killed) is taken over.
 */

const DIR = 'worker-ids';
/** More processes than this on one cache directory get a fresh id each (not kept). */
const MAX_IDS = 64;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Locks this process holds (two workers of one process must not share an id either). */
const held = new Set<string>();

export interface WorkerIdentity {
  workerId: string;
  /** Where the id is kept; null when none was free (the id then lasts this process only). */
  file: string | null;
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
    const kept = (await readFile(file, 'utf8').catch(() => '')).trim();
    let workerId = kept;
    if (!UUID.test(kept)) {
      workerId = randomUUID();
      // Written whole, then renamed: a crash never leaves a half-written id behind.
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, `${workerId}\n`);
      await rename(temporary, file);
    }
    const release = async (): Promise<void> => {
      if (!held.delete(lock)) return;
      await unlink(lock).catch(() => undefined);
    };
    return { workerId, file, release };
  }
  return { workerId: randomUUID(), file: null, release: async () => undefined };
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
