import type { ChildProcess } from 'node:child_process';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parseGpuList, superviseWorkers, type ChildCommand } from './supervisor';

const logger = pino({ level: 'silent' });

/** A real node child running `code`, told its GPU through the environment. */
const nodeChild =
  (code: string) =>
  (gpu: number): ChildCommand => ({
    command: process.execPath,
    args: ['-e', code],
    env: { ...process.env, GPU: String(gpu) },
  });

async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('superviseWorkers', () => {
  it('restarts a crashing child with a doubling backoff and gives it up after maxRestarts', async () => {
    const starts: { gpu: number; at: number }[] = [];
    const supervisor = superviseWorkers({
      gpus: [0, 1],
      // GPU 1 crashes at once; GPU 0 exits cleanly (a worker that was closed) and stays down.
      commandFor: nodeChild('process.exit(process.env.GPU === "1" ? 3 : 0)'),
      logger,
      maxRestarts: 3,
      backoffMs: 40,
      onSpawn: (gpu) => starts.push({ gpu, at: performance.now() }),
    });
    expect(await supervisor.finished).toBe(1);
    expect(starts.filter((s) => s.gpu === 0)).toHaveLength(1);
    const crashing = starts.filter((s) => s.gpu === 1).map((s) => s.at);
    expect(crashing).toHaveLength(1 + 3);
    // Each restart waited at least its backoff: 40, 80, 160 ms (lower bounds, not timings).
    for (let i = 1; i < crashing.length; i++) {
      expect((crashing[i] as number) - (crashing[i - 1] as number)).toBeGreaterThanOrEqual(
        40 * 2 ** (i - 1) - 1,
      );
    }
  });

  it('stops every child on SIGTERM, without restarting them', async () => {
    const children = new Map<number, ChildProcess>();
    const output = new Map<number, string>();
    const supervisor = superviseWorkers({
      gpus: [0, 2, 3],
      commandFor: nodeChild(
        'process.on("SIGTERM", () => { console.log("released gpu " + process.env.GPU); process.exit(0); });' +
          'console.log("ready"); setInterval(() => {}, 1000);',
      ),
      logger,
      backoffMs: 10,
      stdio: 'pipe',
      onSpawn: (gpu, child) => {
        children.set(gpu, child);
        output.set(gpu, '');
        child.stdout?.on('data', (d: Buffer) => output.set(gpu, (output.get(gpu) ?? '') + d.toString()));
      },
    });
    await until(() => [0, 2, 3].every((g) => output.get(g)?.includes('ready')), 'three children ready');
    const pids = [...children.values()].map((c) => c.pid as number);
    expect(await supervisor.stop('SIGTERM')).toBe(0);
    for (const gpu of [0, 2, 3]) expect(output.get(gpu)).toContain(`released gpu ${gpu}`);
    expect(children.size).toBe(3); // none restarted
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('kills a child that ignores the signal after killAfterMs', async () => {
    let child: ChildProcess | undefined;
    let out = '';
    const supervisor = superviseWorkers({
      gpus: [0],
      commandFor: nodeChild(
        'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000);',
      ),
      logger,
      killAfterMs: 200,
      stdio: 'pipe',
      onSpawn: (_gpu, c) => {
        child = c;
        c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      },
    });
    await until(() => out.includes('ready'), 'the child');
    expect(await supervisor.stop('SIGTERM')).toBe(0);
    expect(child?.signalCode).toBe('SIGKILL');
  });
});

describe('parseGpuList', () => {
  it('takes all or a list of GPUs that exist', () => {
    expect(parseGpuList('all', [0, 1, 2, 3])).toEqual([0, 1, 2, 3]);
    expect(parseGpuList(' 0, 2,3 ', [0, 1, 2, 3])).toEqual([0, 2, 3]);
    expect(() => parseGpuList('0,4', [0, 1, 2, 3])).toThrow(/no GPU 4; found 0, 1, 2, 3/);
    expect(() => parseGpuList('1,1', [0, 1])).toThrow(/GPU 1 is listed twice/);
    expect(() => parseGpuList('one', [0])).toThrow(/'one' is not a GPU index/);
    expect(() => parseGpuList('0', [])).toThrow(/found none/);
  });
});
