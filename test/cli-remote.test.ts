import { describe, expect, it } from 'vitest';
import { withTestDatabase } from '@chorus/db/testing';
import { RunListItemSchema, RunResultSchema, WorkerViewSchema, type RunConfigInput } from '@chorus/protocol';
import { spawn, spawnSync } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { ADMIN_TOKEN, launchRun, startCoordinator, waitForRunEnd, withCluster } from './support/cluster';
import { expectEventually, within } from './support/eventually';
import { ChorusProcess, CLI_ENTRY } from './support/processes';

/**
 * The CLI against a coordinator from afar (`--coordinator`): `chorus run --wait` with live
 * progress, `chorus runs`, `workers`, `logs [--follow]`, `cancel` and `delete`, on a real
 * coordinator and two real worker processes; output captured on pipes.
 */

const db = withTestDatabase();
const cluster = withCluster(db, { workers: ['e2e-cli-a', 'e2e-cli-b'] });

/** Runs `chorus ARGS` to its end; its stdout and stderr as text. */
async function chorus(args: string[], env: Record<string, string> = {}) {
  const proc = new ChorusProcess(`chorus ${args[0]}`, args, env);
  const exit = await within(proc.exited, 240_000, `chorus ${args.join(' ')} ends`);
  return { code: exit.code, stdout: proc.stdout.join('\n'), stderr: proc.stderr.join('\n') };
}

const widest = (text: string) => Math.max(...text.split('\n').map((l) => l.length));

// 2 members, 9 epochs of 900 batches each (2,000 rows, 10 % held out, dealt round-robin, batch 1):
// several seconds of training per member even on a quiet machine, so that the pipe's progress lines
// (one per 2 s) fall mid-run (with 3 epochs, a member could finish within 2 s).
const RUN: RunConfigInput = {
  dataset: 'synthetic',
  members: 2,
  epochs: 9,
  trainLimit: 2000,
  batchSize: 1,
  seed: 5,
};

/** `chorus run`'s flags for a run config. */
const runFlags = (config: RunConfigInput) =>
  Object.entries(config).flatMap(([k, v]) => [
    `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
    String(v),
  ]);

/** util-linux `script` runs a command on a pseudo-terminal, as a person's terminal would. */
const hasScript = spawnSync('script', ['--version']).status === 0;

describe('the CLI against a remote coordinator', () => {
  let runId = '';

  it('run --wait shows live loss and accuracy on a pipe and prints the dashboard URL', async () => {
    const flags = Object.entries(RUN).flatMap(([k, v]) => [
      `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
      String(v),
    ]);
    const r = await chorus([
      'run',
      ...flags,
      '--coordinator',
      cluster.coordinator.url,
      '--token',
      ADMIN_TOKEN,
      '--wait',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { runId: string };
    RunResultSchema.parse(out);
    runId = out.runId;
    expect(r.stderr).toContain(`chorus run: dashboard http://127.0.0.1:3000/runs/${runId}`);
    // Progress lines carry numbers from the metrics stream, never "-".
    const progress = r.stderr.split('\n').filter((l) => /^member \d: /.test(l));
    expect(progress.length, r.stderr).toBeGreaterThan(2);
    expect(r.stderr).not.toMatch(/loss -|acc -/);
    const live = progress.filter((l) =>
      /% \(step \d+\/8100, epoch \d\) loss \d+\.\d{4} acc \d\.\d{3} \d+ samples\/s$/.test(l),
    );
    expect(live.length, progress.join('\n')).toBeGreaterThan(0);
    // Smooth: percentages between 0 and 100 were seen, not only the ends.
    const between = progress.map((l) => Number(/: (\d+)%/.exec(l)?.[1])).filter((p) => p > 0 && p < 100);
    expect(between.length, progress.join('\n')).toBeGreaterThan(0);
  });

  it('runs and workers: compact tables (≤ 100 columns) and --json', async () => {
    const url = cluster.coordinator.url;
    const runs = await chorus(['runs', '--coordinator', url]);
    expect(runs.code, runs.stderr).toBe(0);
    expect(widest(runs.stdout)).toBeLessThanOrEqual(100);
    expect(runs.stdout.split('\n')[0]).toMatch(
      /^id +status +dataset +members +best \(test\) +created +name$/,
    );
    expect(runs.stdout).toMatch(
      new RegExp(`^${runId} +completed +synthetic +2 × mlp +[a-z-]+ \\d+\\.\\d% +\\d+[smh] ago`, 'm'),
    );
    const json = RunListItemSchema.array().parse(
      (JSON.parse((await chorus(['runs', '--coordinator', url, '--json'])).stdout) as { runs: unknown }).runs,
    );
    expect(json.find((r) => r.id === runId)?.best).toMatchObject({ source: 'result' });

    const workers = await chorus(['workers', '--coordinator', url]);
    expect(workers.code, workers.stderr).toBe(0);
    expect(widest(workers.stdout)).toBeLessThanOrEqual(100);
    expect(workers.stdout.split('\n')[0]).toMatch(/^name +backend +status +slots +heartbeat +device$/);
    expect(workers.stdout).toMatch(/^e2e-cli-a +cpu +online +0\/1 +\d+s ago +\S/m);
    const listed = WorkerViewSchema.array().parse(
      (JSON.parse((await chorus(['workers', '--coordinator', url, '--json'])).stdout) as { workers: unknown })
        .workers,
    );
    expect(listed.map((w) => w.name).sort()).toEqual(['e2e-cli-a', 'e2e-cli-b']);
  });

  it("logs prints each member's epochs and each evaluation; errors name the run or the URL", async () => {
    const url = cluster.coordinator.url;
    const logs = await chorus(['logs', runId, '--coordinator', url]);
    expect(logs.code, logs.stderr).toBe(0);
    for (const member of [0, 1]) {
      for (const epoch of [1, 2, 3]) {
        expect(logs.stdout).toMatch(
          new RegExp(
            `^\\d\\d:\\d\\d:\\d\\d member ${member} epoch ${epoch}: step \\d+/8100 loss \\d+\\.\\d{4} acc`,
            'm',
          ),
        );
      }
    }
    expect(logs.stdout).toMatch(
      /^\d\d:\d\d:\d\d evaluation after epoch 3 \(2 members\) test: hard \d+\.\d% soft /m,
    );
    expect(logs.stdout.trim().split('\n').pop()).toMatch(/^\d\d:\d\d:\d\d run completed$/);

    const unknown = await chorus(['logs', 'no-such-run', '--coordinator', url]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      `chorus: no run no-such-run on the coordinator at ${url} (\`chorus runs\` lists them)`,
    );
    const away = await chorus(['runs', '--coordinator', 'http://127.0.0.1:1']);
    expect(away.code).toBe(1);
    expect(away.stderr).toMatch(/^chorus: cannot reach the coordinator at http:\/\/127\.0\.0\.1:1/);
  });

  it('logs --follow streams a run live until cancel ends it; cancel needs the admin token', async () => {
    const url = cluster.coordinator.url;
    const id = await launchRun(url, { ...RUN, epochs: 50, name: 'e2e cli cancel' });
    const follow = new ChorusProcess(
      'chorus logs --follow',
      ['logs', id, '--follow', '--coordinator', url],
      {},
    );
    await expectEventually(
      () =>
        expect(follow.stdout.join('\n')).toMatch(
          /member \d: \d+% \(step \d+\/\d+, epoch \d+\) loss \d+\.\d{4} acc \d\.\d{3}/,
        ),
      60_000,
      { what: 'a live progress line with numbers' },
    );
    const refused = await chorus(['cancel', id, '--coordinator', url, '--data-dir', '/nonexistent']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('cancelling a run needs the admin token');
    const cancelled = await chorus(['cancel', id, '--coordinator', url, '--token', ADMIN_TOKEN]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout.trim()).toBe(`run ${id} cancelled`);
    const exit = await within(follow.exited, 60_000, 'logs --follow ends with the run');
    expect(exit.code, follow.stderr.join('\n')).toBe(0);
    expect(follow.stdout.at(-1)).toMatch(/^\d\d:\d\d:\d\d run cancelled/);
    // Each evaluated round once, whether it came before the follow or live.
    const rounds = follow.stdout
      .filter((l) => / evaluation after epoch \d+ /.test(l))
      .map((l) => l.slice(9, 37));
    expect(new Set(rounds).size).toBe(rounds.length);
    await waitForRunEnd(() => url, id, 60_000);
    const unknown = await chorus(['cancel', 'no-such-run', '--coordinator', url, '--token', ADMIN_TOKEN]);
    expect(unknown.stderr).toContain('chorus: no run no-such-run on the coordinator at');
    // The cancelled run can be deleted, once.
    const deleted = await chorus(['delete', id, '--coordinator', url, '--token', ADMIN_TOKEN]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout.trim()).toBe(`run ${id} deleted`);
    const again = await chorus(['delete', id, '--coordinator', url, '--token', ADMIN_TOKEN]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`chorus: no run ${id} on the coordinator at`);
  });

  it.skipIf(!hasScript)('run --wait on a terminal: bars with the live loss and accuracy', async () => {
    const args = [CLI_ENTRY, 'run', ...runFlags(RUN)];
    args.push('--coordinator', cluster.coordinator.url, '--token', ADMIN_TOKEN, '--wait');
    const { FORCE_COLOR: _force, ...env } = process.env;
    const child = spawn(
      'script',
      ['-qec', `timeout 200 ${[process.execPath, ...args].map((a) => `'${a}'`).join(' ')}`, '/dev/null'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...env, NO_COLOR: '1', COLUMNS: '120' },
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const code = await within(
      new Promise((resolve) => child.once('exit', resolve)),
      240_000,
      'chorus run --wait on a terminal ends',
    );
    expect(code, output).toBe(0);
    // Each redraw of a bar: member, the bar, its percentage, epoch, the live loss and accuracy.
    const bars = stripVTControlCharacters(output)
      .split(/[\r\n]+/)
      .filter((l) => / member \d \|/.test(l));
    const live = bars.filter((l) =>
      /\| \d+% \| epoch \d \| loss \d+\.\d{4} \| acc \d\.\d{3} \| \d+ samples\/s/.test(l),
    );
    expect(live.length, bars.join('\n')).toBeGreaterThan(0);
    const between = live.map((l) => Number(/\| (\d+)% \|/.exec(l)?.[1])).filter((p) => p > 0 && p < 100);
    expect(between.length, bars.join('\n')).toBeGreaterThan(0);
  });

  it('run --wait rides through a coordinator restart', async () => {
    const first = cluster.coordinator;
    // 6 epochs of 900 batches: training goes on for the whole restart.
    const config = { ...RUN, epochs: 6 };
    const run = new ChorusProcess(
      'chorus run --wait',
      ['run', ...runFlags(config), '--coordinator', first.url, '--token', ADMIN_TOKEN, '--wait', '--json'],
      {},
    );
    await run.waitForLine('stderr', /^member \d: \d+% .* loss \d/, 60_000);
    first.process.signal('SIGTERM');
    await within(first.process.exited, 30_000, 'the coordinator exits after SIGTERM');
    await run.waitForLine(
      'stderr',
      new RegExp(`cannot reach the coordinator at ${first.url}.*; retrying$`),
      30_000,
    );
    cluster.coordinator = await startCoordinator({
      databaseUrl: db.connectionString,
      dataDir: cluster.dataDir,
      port: first.port,
      label: 'coordinator (restarted)',
    });
    const exit = await within(run.exited, 180_000, 'chorus run --wait ends');
    expect(exit.code, run.tail()).toBe(0);
    RunResultSchema.parse(JSON.parse(run.stdout.at(-1) ?? ''));
    expect(run.stderr).toContain(`the coordinator at ${first.url} answers again`);
    // Progress went on after the restart, with the live figures.
    const after = run.stderr.slice(run.stderr.findIndex((l) => l.includes('answers again')));
    expect(
      after.some((l) => /^member \d: \d+% .* loss \d+\.\d{4} acc/.test(l)),
      run.tail(),
    ).toBe(true);
  });
});
