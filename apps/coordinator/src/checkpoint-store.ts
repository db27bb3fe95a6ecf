import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CheckpointInput, Repositories } from '@chorus/db';
import { CheckpointBytesError, ChorusError, createCheckpointVerifier } from '@chorus/protocol';

/**
 * Where member checkpoints live (apps/coordinator/README.md, "Checkpoint storage"): those of the
 * socket `checkpoint` message as bytes in the database, those uploaded over HTTP as files under
 * `<dataDir>/checkpoints/<memberId>/<epoch>-<sha256>.chck` with the database row holding the path,
 * sha256 and size. An upload streams into a `.part` file while it is verified and hashed, and
 * becomes a checkpoint only whole and verified (rename, then the row); a cut or refused upload
 * leaves nothing behind. The newest CHECKPOINTS_KEPT per member are kept; a member's files that no
 * row names are deleted whenever its checkpoints change. Changes to one member's checkpoints are
 * serialized, so a sweep never deletes a file whose row is being written. A deleted run's members'
 * directories are deleted with it (`removeMembers`), and at start those of members that no longer
 * exist (a run deleted in the database itself, or while the coordinator was down: `removeOrphans`).
 */

/** Checkpoints kept per member: the latest is what a resumed member loads; one more in reserve. */
export const CHECKPOINTS_KEPT = 2;
const PART = '.part';

export interface ReceivedCheckpoint {
  /** The verified `.part` file, absolute. */
  part: string;
  sha256: string;
  size: number;
}

export interface CheckpointStore {
  readonly dir: string;
  /**
   * Streams `body` into a `.part` file, verifying it as it arrives against the member's parameter
   * count and hashing it; refuses (and deletes the part) more than `maxBytes` (`too-large`), bytes
   * that are not a good checkpoint (`invalid-input`) or a cut stream (its error).
   */
  receive(
    memberId: string,
    body: Readable,
    limits: { maxBytes: number; expectedParams?: number },
  ): Promise<ReceivedCheckpoint>;
  /** A received checkpoint becomes the member's checkpoint of `epoch` (then older ones are pruned). */
  commitFile(
    received: ReceivedCheckpoint,
    row: { memberId: string; epoch: number; step: number; planOffset: number },
  ): Promise<void>;
  /** Deletes a received checkpoint that will not be committed. */
  discard(received: ReceivedCheckpoint): Promise<void>;
  /** A checkpoint of the socket path (bytes in the database). */
  saveBytes(input: CheckpointInput): Promise<void>;
  /** Deletes the checkpoint of this epoch (a worker could not load it); false when there was none. */
  remove(memberId: string, epoch: number): Promise<boolean>;
  /** A stream of a stored file (`not-found` when it is missing). */
  open(file: string): Promise<{ stream: ReadStream; bytes: number }>;
  /** A stored checkpoint's bytes, from the database or its file (for an export: one member at a time). */
  bytesOf(checkpoint: { file: string | null; weights: Uint8Array | null }): Promise<Uint8Array>;
  /** Deletes `.part` files a previous process left (run at start, before any upload). */
  removeParts(): Promise<number>;
  /** Deletes the checkpoint directories of these members (their run was deleted); how many existed. */
  removeMembers(memberIds: readonly string[]): Promise<number>;
  /**
   * Deletes the checkpoint directories of members that no longer exist, and anything else under
   * the checkpoints directory that is not a member's directory (run at start, before any upload).
   * Returns how many entries were deleted.
   */
  removeOrphans(): Promise<number>;
}

export function createCheckpointStore(dataDir: string, repos: Repositories): CheckpointStore {
  const dir = resolve(dataDir, 'checkpoints');
  const memberDir = (memberId: string): string => {
    // Member ids are cuids (IdSchema); never a path that leaves the directory.
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(memberId))
      throw new ChorusError('invalid-input', `"${memberId}" is not a member id`);
    return join(dir, memberId);
  };
  const pathOf = (file: string): string => {
    const path = resolve(dir, file);
    if (!path.startsWith(dir + sep))
      throw new ChorusError('internal', `checkpoint file ${file} is outside ${dir}`);
    return path;
  };

  const locks = new Map<string, Promise<void>>();
  /** Runs `work` after every earlier change to the member's checkpoints. */
  const locked = async <T>(memberId: string, work: () => Promise<T>): Promise<T> => {
    const before = locks.get(memberId) ?? Promise.resolve();
    const result = before.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    locks.set(memberId, tail);
    void tail.then(() => {
      if (locks.get(memberId) === tail) locks.delete(memberId);
    });
    return result;
  };

  /** Prunes to CHECKPOINTS_KEPT and deletes the member's files no row names (never `.part` ones). */
  const tidy = async (memberId: string): Promise<void> => {
    await repos.checkpoints.prune(memberId, CHECKPOINTS_KEPT);
    const named = new Set((await repos.checkpoints.files(memberId)).map((f) => pathOf(f)));
    let entries: string[];
    try {
      entries = await readdir(memberDir(memberId));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(memberDir(memberId), entry);
      if (!entry.endsWith(PART) && !named.has(path)) await rm(path, { force: true });
    }
  };

  return {
    dir,
    async receive(memberId, body, limits) {
      const folder = memberDir(memberId);
      await mkdir(folder, { recursive: true, mode: 0o700 });
      const part = join(folder, `${randomUUID()}${PART}`);
      const hash = createHash('sha256');
      const verifier = createCheckpointVerifier(limits.expectedParams);
      let size = 0;
      const check = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          if (size > limits.maxBytes) {
            done(
              new ChorusError(
                'too-large',
                `the checkpoint is larger than the ${limits.maxBytes} bytes this member's checkpoint can take`,
              ),
            );
            return;
          }
          try {
            verifier.update(chunk);
          } catch (error) {
            done(refusalOf(error));
            return;
          }
          hash.update(chunk);
          done(null, chunk);
        },
      });
      try {
        await pipeline(body, check, createWriteStream(part, { mode: 0o600 }));
        try {
          verifier.finish();
        } catch (error) {
          throw refusalOf(error);
        }
      } catch (error) {
        await rm(part, { force: true });
        throw error;
      }
      return { part, sha256: hash.digest('hex'), size };
    },
    commitFile(received, row) {
      return locked(row.memberId, async () => {
        const name = `${row.epoch}-${received.sha256}.chck`;
        const final = join(memberDir(row.memberId), name);
        await rename(received.part, final);
        await repos.checkpoints.saveFile({
          ...row,
          file: relative(dir, final),
          sha256: received.sha256,
          size: received.size,
        });
        await tidy(row.memberId);
      });
    },
    discard: async (received) => rm(received.part, { force: true }),
    saveBytes(input) {
      return locked(input.memberId, async () => {
        await repos.checkpoints.save(input);
        await tidy(input.memberId);
      });
    },
    remove(memberId, epoch) {
      return locked(memberId, async () => {
        const removed = await repos.checkpoints.remove(memberId, epoch);
        await tidy(memberId);
        return removed;
      });
    },
    async open(file) {
      const path = pathOf(file);
      let bytes: number;
      try {
        bytes = (await stat(path)).size;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT')
          throw new ChorusError(
            'not-found',
            `checkpoint file ${path} is missing from the coordinator's data dir`,
          );
        throw error;
      }
      return { stream: createReadStream(path), bytes };
    },
    async bytesOf(checkpoint) {
      if (checkpoint.file === null) return checkpoint.weights ?? new Uint8Array(0);
      const { stream } = await this.open(checkpoint.file);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    async removeParts() {
      let removed = 0;
      const members = await entriesOf(dir);
      if (members === null) return 0;
      for (const member of members) {
        for (const entry of await readdir(join(dir, member)).catch(() => [] as string[])) {
          if (entry.endsWith(PART)) {
            await unlink(join(dir, member, entry)).catch(() => undefined);
            removed++;
          }
        }
      }
      return removed;
    },
    async removeMembers(memberIds) {
      let removed = 0;
      for (const memberId of memberIds) {
        const folder = memberDir(memberId);
        await locked(memberId, async () => {
          if (await exists(folder)) removed++;
          await rm(folder, { recursive: true, force: true });
        });
      }
      return removed;
    },
    async removeOrphans() {
      const entries = await entriesOf(dir);
      if (entries === null) return 0;
      const ids = entries.filter((e) => /^[A-Za-z0-9_-]{1,64}$/.test(e));
      const alive = new Set(await repos.members.existingIds(ids));
      let removed = 0;
      for (const entry of entries) {
        if (alive.has(entry)) continue;
        await rm(join(dir, entry), { recursive: true, force: true });
        removed++;
      }
      return removed;
    },
  };
}

/** The names in a directory, or null when it does not exist (yet). */
async function entriesOf(dir: string): Promise<string[] | null> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function refusalOf(error: unknown): Error {
  if (error instanceof CheckpointBytesError)
    return new ChorusError('invalid-input', `checkpoint refused: ${error.message}`);
  return error instanceof Error ? error : new Error(String(error));
}
