import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';

/**
 * One worker process per GPU, as torchrun starts one rank per GPU (`chorus worker --gpus …`). Each
 * child is a whole `chorus worker` pinned to its GPU; one that exits with an error is restarted after
 * a backoff (doubling, capped), until it has been restarted `maxRestarts` times — then that GPU is
 * given up and the supervisor's exit code becomes 1. A child that exits 0 stopped on purpose and is
 * not restarted. `stop(signal)` stops restarting, forwards the signal to every child (a worker then
 * finishes its step, disconnects and frees its id; the coordinator hands its members on) and, after
 * `killAfterMs`, kills those still running.
 */

export interface ChildCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface SupervisorOptions {
  gpus: readonly number[];
  /** The process to start for one GPU. */
  commandFor(gpu: number): ChildCommand;
  logger: Logger;
  /** Restarts per GPU before it is given up (default 5). */
  maxRestarts?: number;
  /** First restart delay, doubled each time up to `backoffMaxMs` (defaults 1 s and 60 s). */
  backoffMs?: number;
  backoffMaxMs?: number;
  /** A child that ran this long before crashing starts its backoff and count afresh (default 10 min). */
  stableMs?: number;
  /** After stop(), children still running this long are killed (default 60 s). */
  killAfterMs?: number;
  /** Where the children's output goes (default: this process's stdout and stderr). */
  stdio?: 'inherit' | 'pipe';
  /** Called with each started child (tests read its pid and output). */
  onSpawn?: (gpu: number, child: ChildProcess) => void;
}

export interface Supervisor {
  /** Resolves when every child has stopped or been given up: 0, or 1 if any GPU was given up. */
  finished: Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

interface Slot {
  gpu: number;
  child: ChildProcess | null;
  restarts: number;
  timer: NodeJS.Timeout | null;
  done: boolean;
  gaveUp: boolean;
}

export function superviseWorkers(o: SupervisorOptions): Supervisor {
  const maxRestarts = o.maxRestarts ?? 5;
  const backoffMs = o.backoffMs ?? 1_000;
  const backoffMaxMs = o.backoffMaxMs ?? 60_000;
  const stableMs = o.stableMs ?? 600_000;
  const slots: Slot[] = o.gpus.map((gpu) => ({
    gpu,
    child: null,
    restarts: 0,
    timer: null,
    done: false,
    gaveUp: false,
  }));
  let stopping = false;
  let resolveFinished: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (resolveFinished = resolve));

  const settle = (): void => {
    if (slots.every((s) => s.done)) resolveFinished(slots.some((s) => s.gaveUp) ? 1 : 0);
  };

  const start = (slot: Slot): void => {
    slot.timer = null;
    if (stopping) {
      slot.done = true;
      settle();
      return;
    }
    const { command, args, env } = o.commandFor(slot.gpu);
    const started = Date.now();
    const child = spawn(command, args, {
      env,
      stdio: ['ignore', o.stdio ?? 'inherit', o.stdio ?? 'inherit'],
    });
    slot.child = child;
    o.onSpawn?.(slot.gpu, child);
    o.logger.info({ gpu: slot.gpu, pid: child.pid, restarts: slot.restarts }, 'worker process started');
    let exited = false;
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (exited) return;
      exited = true;
      slot.child = null;
      if (stopping || code === 0) {
        o.logger.info({ gpu: slot.gpu, code, signal }, 'worker process stopped');
        slot.done = true;
        settle();
        return;
      }
      if (Date.now() - started >= stableMs) slot.restarts = 0;
      if (slot.restarts >= maxRestarts) {
        o.logger.error(
          { gpu: slot.gpu, code, signal, restarts: slot.restarts },
          `worker process for GPU ${slot.gpu} keeps failing; given up after ${maxRestarts} restarts`,
        );
        slot.done = true;
        slot.gaveUp = true;
        settle();
        return;
      }
      const wait = Math.min(backoffMaxMs, backoffMs * 2 ** slot.restarts);
      slot.restarts++;
      o.logger.warn(
        { gpu: slot.gpu, code, signal, restart: slot.restarts, of: maxRestarts, inMs: wait },
        'worker process failed; restarting',
      );
      slot.timer = setTimeout(() => start(slot), wait);
    };
    child.on('exit', onExit);
    child.on('error', (error) => {
      o.logger.error({ gpu: slot.gpu, err: error.message }, 'worker process could not start');
      onExit(null, null);
    });
  };

  const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<number> => {
    if (!stopping) {
      stopping = true;
      for (const slot of slots) {
        if (slot.timer !== null) {
          clearTimeout(slot.timer);
          slot.timer = null;
          slot.done = true;
        }
        slot.child?.kill(signal);
      }
      const killer = setTimeout(() => {
        for (const slot of slots) slot.child?.kill('SIGKILL');
      }, o.killAfterMs ?? 60_000);
      void finished.then(() => clearTimeout(killer));
      settle();
    }
    return finished;
  };

  if (slots.length === 0) resolveFinished(0);
  for (const slot of slots) start(slot);
  return { finished, stop };
}

/**
 * `--gpus all` or a list such as `0,2,3`: the GPU indices to start workers on. `all` takes
 * `available` (the GPUs found). Refuses duplicates, negatives and indices not found.
 */
export function parseGpuList(value: string, available: readonly number[]): number[] {
  const text = value.trim();
  if (text === 'all') return [...available];
  const parts = text.split(',').map((p) => p.trim());
  const out: number[] = [];
  for (const part of parts) {
    if (!/^\d+$/.test(part)) throw new Error(`--gpus: '${part}' is not a GPU index (use all or e.g. 0,2,3)`);
    const gpu = Number(part);
    if (out.includes(gpu)) throw new Error(`--gpus: GPU ${gpu} is listed twice`);
    if (!available.includes(gpu)) {
      throw new Error(
        `--gpus: no GPU ${gpu}; found ${available.length === 0 ? 'none' : available.join(', ')}`,
      );
    }
    out.push(gpu);
  }
  return out;
}
