import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunResultSchema, STRATEGY_NAMES } from '@chorus/protocol';

const CLI = fileURLToPath(new URL('../../../bin/chorus.mjs', import.meta.url));

/** Runs the real CLI in a child process. */
function chorus(
  args: string[],
  timeoutMs = 120_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** util-linux `script` runs a command on a pseudo-terminal (stdout.isTTY), as a person's terminal would. */
const hasScript = spawnSync('script', ['--version']).status === 0;
const onTerminal = (args: string[]): [string, ...string[]] => [
  'script',
  '-qec',
  // Bounded: the worker would wait for its coordinator for ever.
  `timeout 60 ${[process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ')}`,
  '/dev/null',
];

const lastLine = (text: string): string => text.trim().split('\n').pop() ?? '';

/** Starts the real CLI (or `command`), resolves with its first stdout line, and stops it. */
function firstStdoutLine(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  command: [string, ...string[]] = [process.execPath, CLI],
): Promise<string> {
  return new Promise((resolve, reject) => {
    const [file, ...before] = command;
    const child = spawn(file, [...before, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no stdout line within 60 s; stderr: ${stderr}`));
    }, 60_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const end = stdout.indexOf('\n');
      if (end < 0) return;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(stdout.slice(0, end).replace(/\r$/, ''));
    });
    child.on('error', reject);
  });
}

/** Starts the real CLI, resolves with its stdout lines up to the first that matches `last`, and stops it. */
function stdoutLinesUntil(
  args: string[],
  last: RegExp,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no line matching ${last} within 60 s; stdout: ${stdout}`));
    }, 60_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const lines = stdout.split('\n');
      const end = lines.slice(0, -1).findIndex((line) => last.test(line));
      if (end < 0) return;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(lines.slice(0, end + 1));
    });
    child.on('error', reject);
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chorus-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('chorus CLI', () => {
  it('models --json lists every model with its Keras parameter counts (model.summary)', async () => {
    const r = await chorus(['models', '--json']);
    expect(r.code).toBe(0);
    const models = JSON.parse(lastLine(r.stdout)) as {
      name: string;
      params: number;
      trainableParams: number;
    }[];
    const byName = Object.fromEntries(models.map((m) => [m.name, m]));
    expect(byName.mlp?.params).toBe(47_410);
    expect(byName['fashion-dnn']?.params).toBe(1_195_018);
    expect(byName['fashion-small']?.params).toBe(79_510);
    expect(byName['sign-cnn']).toMatchObject({ params: 264_049, trainableParams: 263_749 });
    expect(models.map((m) => m.name)).toEqual([
      'mlp',
      'fashion-dnn',
      'fashion-small',
      'sign-cnn',
      'lenet5',
      'small-cnn',
    ]);
  });

  it('a mistake prints the error and where the help is, not the whole help; --version', async () => {
    const typo = await chorus(['train', '--membrs', '3']);
    expect(typo.code).toBe(1);
    expect(typo.stderr.trim().split('\n')).toEqual([
      "error: unknown option '--membrs'",
      '(Did you mean --members?)',
      'Run "chorus train --help" for its options.',
    ]);
    const command = await chorus(['trian']);
    expect(command.code).toBe(1);
    expect(command.stderr).toMatch(/\(Did you mean train\?\)\nRun "chorus --help" for the commands\.\n$/);
    const version = await chorus(['--version']);
    const { version: expected } = JSON.parse(
      await readFile(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8'),
    ) as { version: string };
    expect(version.stdout.trim()).toBe(expected);
  });

  it('datasets and models: plain, at most 100 columns on a pipe; coloured with FORCE_COLOR', async () => {
    const { FORCE_COLOR: _force, NO_COLOR: _no, ...plainEnv } = process.env;
    for (const command of ['datasets', 'models']) {
      const plain = await chorus([command], 60_000, plainEnv);
      expect(plain.code, plain.stderr).toBe(0);
      expect(plain.stdout).not.toContain('\u001b[');
      const lines = plain.stdout.trimEnd().split('\n');
      expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
      expect(lines[0]).toMatch(new RegExp(`^${command === 'datasets' ? 'dataset' : 'model'} `));
      const colored = await chorus([command], 60_000, { ...plainEnv, FORCE_COLOR: '1' });
      expect(colored.stdout).toContain('\u001b[36m');
      const noColor = await chorus([command], 60_000, { ...plainEnv, NO_COLOR: '1' });
      expect(noColor.stdout).toBe(plain.stdout);
    }
    const datasets = (await chorus(['datasets'], 60_000, plainEnv)).stdout;
    expect(datasets).toMatch(/^synthetic +2000 \/ 500 +generated \(seed 1\)$/m);
  });

  it('train --json ends with the result object; --config is merged with flags, which win', async () => {
    const config = join(dir, 'run.json');
    await writeFile(
      config,
      JSON.stringify({
        dataset: 'synthetic',
        members: 2,
        epochs: 2,
        batchSize: 32,
        memberOverrides: [{ member: 1, dropout: 0.2 }],
      }),
    );
    const r = await chorus(['train', '--config', config, '--members', '3', '--backend', 'cpu', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(lastLine(r.stdout)) as Record<string, unknown>;
    const result = RunResultSchema.parse(out);
    expect(result.members.map((m) => m.index)).toEqual([0, 1, 2]);
    // Every strategy, the fixed votes and the learned combiners, in STRATEGY_NAMES order.
    expect(Object.keys(out.ensemble as object)).toEqual([...STRATEGY_NAMES]);
    expect(result.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(out.backend).toBe('cpu');
    // The synthetic task is learnable: the ensemble is well above chance (4 classes).
    expect(result.ensemble.soft.accuracy).toBeGreaterThan(0.4);
    // Progress goes to stderr, so stdout holds nothing but the result.
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/backend cpu/);
  });

  it("the same seed gives the same ensemble; the start line counts the run's own splits", async () => {
    const args = [
      'train',
      '--dataset',
      'synthetic',
      '--members',
      '2',
      '--epochs',
      '1',
      '--train-limit',
      '600',
      '--backend',
      'cpu',
      '--json',
    ];
    const [a, b] = await Promise.all([chorus(args), chorus(args)]);
    expect(JSON.parse(lastLine(a.stdout)).ensemble).toEqual(JSON.parse(lastLine(b.stdout)).ensemble);
    // 600 of synthetic's 2000 training rows, 10 % of them held out; its own 500 test rows.
    expect(a.stderr).toContain('(540 train / 60 validation / 500 test,');
    expect(a.stderr).toContain(', 1 epoch, batch 64,');
  });

  it('train on a pipe: every line within 100 columns, no escape codes; on a terminal, coloured', async () => {
    const { FORCE_COLOR: _force, NO_COLOR: _no, ...env } = process.env;
    // The default backend: where tensorflow (and a GPU) are absent, it says why it passed them over.
    const args = [
      'train',
      '--dataset',
      'synthetic',
      '--members',
      '2',
      '--epochs',
      '1',
      '--train-limit',
      '300',
    ];
    const piped = await chorus(args, 120_000, env);
    expect(piped.code, piped.stderr).toBe(0);
    for (const text of [piped.stdout, piped.stderr]) {
      expect(text).not.toContain('\u001b[');
      const lines = text.trimEnd().split('\n');
      expect(Math.max(...lines.map((l) => l.length)), text).toBeLessThanOrEqual(100);
    }
    const stderr = piped.stderr.split('\n');
    expect(stderr[0]).toMatch(
      /^chorus train: 2 × mlp on synthetic \(270 train \/ 30 validation \/ 500 test, /,
    );
    expect(stderr[1]).toMatch(/^ {2}round-robin sharding, 1 epoch, batch 64, seed 1; backend \w+ on /);
    if (!/; backend tensorflow on /.test(stderr[1] ?? '')) {
      expect(stderr.find((l) => l.startsWith('  passed over tensorflow: '))).toBeDefined();
    }
    // The four tables, a rule under each header and none between rows.
    expect(piped.stdout.match(/^┌/gm)).toHaveLength(4);
    expect(piped.stdout.match(/^├/gm)).toHaveLength(4);
    expect(piped.stdout).toMatch(/^│ soft +│ \d\.\d{4} +│/m);

    if (!hasScript) return;
    const child = spawn(onTerminal(args)[0], onTerminal(args).slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...env, COLUMNS: '100' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    expect(await new Promise((resolve) => child.once('exit', resolve)), output).toBe(0);
    // Coloured headers, and each member's bar redrawn in place.
    expect(output).toContain('\u001b[36mstrategy (test)\u001b[39m');
    expect(stripVTControlCharacters(output)).toMatch(/member 0 \|.*\| 100% \|/);
  });

  it('bad input fails with a message a user can act on, and no stack trace', async () => {
    const bad = await chorus(['train', '--dataset', 'synthetic', '--members', '0', '--epochs', 'two']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--epochs must be a number, got "two"/);
    const invalid = await chorus(['train', '--dataset', 'synthetic', '--members', '0']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/members: /);
    expect(invalid.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    const typo = join(dir, 'typo.json');
    await writeFile(typo, JSON.stringify({ dataset: 'synthetic', epoch: 3, batch_size: 32 }));
    const unknown = await chorus(['train', '--config', typo]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown key "epoch" (did you mean "epochs"?)');
    expect(unknown.stderr).toContain('unknown key "batch_size" (did you mean "batchSize"?)');
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{\n  "dataset": "synthetic",\n  "members" 3\n}\n');
    const malformed = await chorus(['train', '--config', broken]);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(/--config .*broken\.json is not valid JSON: .* at line 3, column 13\n/);
    // Member sizes are checked before any dataset is read or coordinator asked (a synthetic mlp of
    // width w is 64w + w + 3(w² + w) + 4w + 4 parameters: 11,104 at its default 50).
    const wide = join(dir, 'wide.json');
    await writeFile(
      wide,
      JSON.stringify({
        dataset: 'fashion-mnist',
        model: 'fashion-dnn',
        members: 2,
        memberOverrides: [{ member: 1, width: 8192 }],
      }),
    );
    const huge = await chorus(['train', '--config', wide, '--dataset-path', '/nonexistent']);
    expect(huge.code).toBe(1);
    expect(huge.stderr).toContain(
      'member 1 (width 8192) has 207,863,818 parameters: over the limit of 50,000,000 parameters per member',
    );
    expect(huge.stderr).not.toContain('member 0');
    const small = await chorus(['train', '--dataset', 'synthetic', '--max-member-params', '11103']);
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(
      /member 0 \(width 50\) has 11,104 parameters.*over the limit of 11,103 .*\(--max-member-params\)/,
    );
    const remote = await chorus([
      ...['run', '--coordinator', 'http://127.0.0.1:1', '--token', 'x'.repeat(20)],
      ...['--dataset', 'synthetic', '--max-member-params', '11103'],
    ]);
    expect(remote.code).toBe(1);
    expect(remote.stderr).toMatch(/member 0 \(width 50\) has 11,104 parameters/);
    const notANumber = await chorus(['train', '--dataset', 'synthetic', '--max-member-params', 'lots']);
    expect(notANumber.stderr).toContain('--max-member-params must be a whole number ≥ 1, got "lots"');
    const missing = await chorus(['train', '--dataset', 'sign-mnist']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/kaggle/i);
    expect(missing.stderr).toMatch(/--dataset-path/);
  });

  it('train on a CSV of your own: class names in the result; a bad row or a convnet refused', async () => {
    const rows = Array.from(
      { length: 120 },
      (_, i) => `${(i % 3) + Math.sin(i)},${(i % 3) * 2 + Math.cos(i)},${['ant', 'bee', 'cow'][i % 3]}`,
    );
    const file = join(dir, 'animals.csv');
    await writeFile(file, `a,b,kind\n${rows.join('\n')}\n`);
    const ok = await chorus([
      'train',
      '--dataset',
      'csv',
      '--dataset-path',
      file,
      '--members',
      '2',
      '--epochs',
      '1',
      '--batch-size',
      '16',
      '--json',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const result = RunResultSchema.parse(JSON.parse(ok.stdout.trim().split('\n').pop() ?? ''));
    expect(result.classes?.names).toEqual(['ant', 'bee', 'cow']);
    expect(ok.stderr).toContain('on csv (86 train / 10 validation / 24 test');

    const ragged = join(dir, 'ragged.csv');
    await writeFile(ragged, 'a,b,kind\n1,2,ant\n3,bee\n');
    const bad = await chorus(['train', '--dataset', 'csv', '--dataset-path', ragged]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`chorus: ${ragged}:3: expected 3 columns (as on the first line), found 2\n`);
    const convnet = await chorus(['train', '--dataset', 'csv', '--dataset-path', file, '--model', 'lenet5']);
    expect(convnet.code).toBe(1);
    expect(convnet.stderr).toContain(
      'lenet5 is a convolutional network and needs images [height, width, channels]',
    );
  });

  it('worker logs are JSON on a pipe, and human lines with --log-format pretty', async () => {
    // Nothing listens on port 1: the worker logs its start, then keeps trying to connect.
    const args = [
      'worker',
      '--coordinator',
      'http://127.0.0.1:1',
      '--token',
      'not-a-real-token',
      '--backend',
      'cpu',
    ];
    const json = JSON.parse(await firstStdoutLine(args)) as Record<string, unknown>;
    expect(json).toMatchObject({ level: 30, name: 'chorus-worker', msg: 'worker starting', slots: 1 });
    const pretty = await firstStdoutLine([...args, '--log-format', 'pretty']);
    expect(pretty).toMatch(
      /^\d\d:\d\d:\d\d INFO {2}worker starting coordinator=http:\/\/127\.0\.0\.1:1 backend=cpu slots=1$/,
    );
    const colored = await firstStdoutLine([...args, '--log-format', 'pretty'], {
      ...process.env,
      FORCE_COLOR: '1',
    });
    expect(colored).toContain('\u001b[32mINFO');
    // The default backend: each faster one passed over gets a line of its own, with why.
    const auto = args.filter((a, i) => a !== '--backend' && args[i - 1] !== '--backend');
    const lines = await stdoutLinesUntil(
      [...auto, '--log-format', 'pretty'],
      /passed over tensorflow: |tfjs backend ready .*backend=tensorflow /,
    );
    // Where tfjs-node is installed, nothing was passed over.
    if (!/tfjs backend ready/.test(lines.at(-1) ?? '')) {
      expect(lines.at(-1)).toMatch(
        /^\d\d:\d\d:\d\d INFO {2}passed over tensorflow: neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node (is installed|loads .*)$/,
      );
      expect(lines.at(-2)).toMatch(/ INFO {2}tfjs backend ready .*backend=wasm /);
    }
  });

  it('tokens prints the tokens of a local coordinator; worker finds its token by --data-dir', async () => {
    const { CHORUS_WORKER_TOKEN: _token, CHORUS_DATA_DIR: _dir, ...env } = process.env;
    const dataDir = join(dir, 'coordinator-data');
    await mkdir(dataDir, { recursive: true });
    const tokens = { workerToken: 'w'.repeat(43), adminToken: 'a'.repeat(43), viewerToken: 'v'.repeat(43) };
    await writeFile(join(dataDir, 'tokens.json'), JSON.stringify(tokens), { mode: 0o600 });

    const json = await chorus(['tokens', '--data-dir', dataDir, '--json'], 60_000, env);
    expect(JSON.parse(lastLine(json.stdout))).toEqual(tokens);
    const text = await chorus(['tokens', '--data-dir', dataDir], 60_000, env);
    expect(text.stdout).toContain(`worker token  ${tokens.workerToken}`);
    expect(text.stdout).toContain(`admin token   ${tokens.adminToken}`);
    expect(text.stdout).toContain(`viewer token  ${tokens.viewerToken}`);
    const none = await chorus(['tokens', '--data-dir', join(dir, 'nowhere')], 60_000, env);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no tokens in .*nowhere: a coordinator started with --data-dir/);

    // With the data dir the worker has a token and starts (then waits for the coordinator)...
    const worker = [
      'worker',
      '--coordinator',
      'http://127.0.0.1:1',
      '--backend',
      'cpu',
      '--log-format',
      'json',
    ];
    const started = JSON.parse(await firstStdoutLine([...worker, '--data-dir', dataDir], env)) as {
      msg: string;
    };
    expect(started.msg).toBe('worker starting');
    // ...without one it says where the token is.
    const refused = await chorus([...worker, '--data-dir', join(dir, 'nowhere')], 60_000, env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('no worker token');
    expect(refused.stderr).toContain('npx chorus tokens --data-dir DIR');
  });

  it.skipIf(!hasScript)('on a terminal: coloured tables and human log lines, unless NO_COLOR', async () => {
    const { FORCE_COLOR: _force, NO_COLOR: _no, ...env } = process.env;
    const table = await firstStdoutLine([], env, onTerminal(['datasets']));
    expect(table.startsWith('\u001b[36mdataset\u001b[39m')).toBe(true);
    expect(stripVTControlCharacters(table)).toMatch(/^dataset +train \/ test/);
    expect(await firstStdoutLine([], { ...env, NO_COLOR: '1' }, onTerminal(['datasets']))).toMatch(
      /^dataset +train \/ test/,
    );
    const worker = [
      'worker',
      '--coordinator',
      'http://127.0.0.1:1',
      '--token',
      'not-a-real-token',
      '--backend',
      'cpu',
    ];
    const log = await firstStdoutLine([], { ...env, NO_COLOR: '1' }, onTerminal(worker));
    expect(log).toMatch(/^\d\d:\d\d:\d\d INFO {2}worker starting coordinator=/);
  });

  it('dashboard says how to give it a database when there is none, and refuses a bad port', async () => {
    const { DATABASE_URL: _url, ...env } = process.env;
    const none = await chorus(['dashboard', '--data-dir', join(dir, 'no-coordinator-here')], 60_000, env);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/set DATABASE_URL/);
    expect(none.stderr).toMatch(/chorus coordinator --data-dir/);
    const port = await chorus(['dashboard', '--port', 'eighty'], 60_000, env);
    expect(port.code).toBe(1);
    expect(port.stderr).toMatch(/--port must be a port number/);
  });

  it('demo runs the whole stack (embedded Postgres, worker processes) and exits when asked', async () => {
    const config = join(dir, 'demo.json');
    await writeFile(config, JSON.stringify({ dataset: 'synthetic', members: 2, epochs: 2, trainLimit: 600 }));
    const r = await chorus(
      [
        'demo',
        '--port',
        '0',
        '--no-dashboard',
        '--workers',
        '2',
        '--data-dir',
        join(dir, 'demo-data'),
        '--config',
        config,
        '--exit-when-done',
        '--json',
      ],
      240_000,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(lastLine(r.stdout)) as { runId: string };
    RunResultSchema.parse(out);
    expect(out.runId).toMatch(/\w+/);
    expect(r.stderr).toMatch(/2 local worker process/);
    // Deterministic: the distributed run equals the same run trained in one process.
    // Same backend choice (auto) as the demo's workers.
    const local = await chorus(['train', '--config', config, '--json']);
    const { runId: _runId, ...distributed } = out as Record<string, unknown>;
    const single = JSON.parse(lastLine(local.stdout)) as Record<string, unknown>;
    const soft = (r: Record<string, unknown>) => (r.ensemble as { soft: { accuracy: number } }).soft.accuracy;
    expect(soft(distributed)).toBe(soft(single));
  }, 300_000);
});
