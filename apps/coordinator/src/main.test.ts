import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset, prepareRunData } from '@chorus/data';
import { createTestDatabase } from '@chorus/db/testing';
import { parseRunConfig, SPLITS, type Assignment, type ModelFile, type RunConfigInput } from '@chorus/protocol';
import type { RunningCoordinator } from './coordinator';
import { main } from './main';
import {
  checkpointFor,
  bytesOf,
  httpClient,
  connectWorker,
  expectEventually,
  handshake,
  softmaxRows,
} from './testing/harness';

const root = mkdtempSync(join(tmpdir(), 'chorus-main-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('chorus coordinator (main)', () => {
  it('runs on the embedded database with generated tokens, and a run goes on after a restart', async () => {
    const dataDir = join(root, 'data');
    const lines: string[] = [];
    const start = () =>
      main({
        argv: ['--port', '0', '--data-dir', dataDir, '--host', '127.0.0.1'],
        env: { LOG_LEVEL: 'silent', CHORUS_LEASE_MS: '60000' },
        print: (line) => lines.push(line),
        handleSignals: false,
      });
    const runConfig: RunConfigInput = {
      dataset: 'synthetic',
      members: 1,
      epochs: 2,
      batchSize: 64,
      trainLimit: 300,
      seed: 9,
    };
    const cfg = parseRunConfig(runConfig);
    const { validation, test } = prepareRunData(await loadDataset('synthetic', { seed: cfg.seed }), cfg);
    const rows = { validation: validation.count, test: test.count };

    let coordinator: RunningCoordinator = await start();
    try {
      const tokensFile = join(dataDir, 'tokens.json');
      expect(lines.join('\n')).toContain(tokensFile);
      expect(lines.join('\n')).toContain(coordinator.url);
      // The first start says how to go on (once); the tokens themselves are never printed.
      expect(lines.join('\n')).toContain(
        `npx chorus worker --coordinator ${coordinator.url} --data-dir ${dataDir}`,
      );
      expect(statSync(tokensFile).mode & 0o777).toBe(0o600);
      const tokens = JSON.parse(readFileSync(tokensFile, 'utf8')) as {
        workerToken: string;
        adminToken: string;
      };
      expect(coordinator).toMatchObject(tokens);

      // The client checks the status of a success: 201 Created.
      const { id: runId } = await httpClient(coordinator, tokens.adminToken).createRun({ body: runConfig });
      const auth = handshake({ token: tokens.workerToken });
      let worker = await connectWorker(coordinator, auth);
      const answer = await worker.emitWithAck('member:request', {});
      const a = (answer.ok && answer.assignment) as Assignment;
      const lease = { memberId: a.memberId, attempt: a.attempt };
      const predict = async (round: number) => {
        for (const split of SPLITS) {
          const probabilities = bytesOf(softmaxRows(rows[split], 4, round * 2 + SPLITS.indexOf(split)));
          expect(
            await worker.emitWithAck('predictions', {
              ...lease,
              round,
              split,
              rows: rows[split],
              numClasses: 4,
              probabilities,
            }),
          ).toEqual({ ok: true });
        }
      };
      const half = a.totalBatches / 2;
      expect(
        await worker.emitWithAck('checkpoint', {
          ...lease,
          epoch: 0,
          step: half,
          planOffset: half,
          weights: checkpointFor(a),
        }),
      ).toEqual({ ok: true });
      await predict(0);

      // Restart: same data dir, same tokens, the run and its lease are still there.
      await coordinator.close();
      worker.close();
      const linesBefore = lines.length;
      coordinator = await start();
      expect(coordinator).toMatchObject(tokens);
      const restartText = lines.slice(linesBefore).join('\n');
      expect(restartText).toContain(`npx chorus tokens --data-dir ${dataDir}`);
      expect(restartText).not.toContain('First start');
      expect(lines.join('\n')).not.toContain(tokens.workerToken);
      expect(lines.join('\n')).not.toContain(tokens.adminToken);
      expect(await httpClient(coordinator).getRun({ params: { id: runId } })).toMatchObject({
        status: 'running',
      });
      worker = await connectWorker(coordinator, { ...auth, activeMembers: [a.memberId] });
      expect(await worker.emitWithAck('heartbeat', { members: [lease] })).toEqual({ ok: true, revoked: [] });
      const plan = await worker.emitWithAck('plan:next', { ...lease, offset: half, count: half });
      if (!plan.ok) throw new Error(plan.message);
      expect(plan.chunk.sizes.length).toBe(half);
      await predict(1);
      expect(await worker.emitWithAck('member:done', { ...lease, samples: 240, seconds: 1 })).toEqual({
        ok: true,
      });
      const detail = await expectEventually(async () => {
        const response = await httpClient(coordinator).getRun({ params: { id: runId } });
        expect(response.status).toBe('completed');
        return response;
      });
      expect(detail.result?.members).toEqual([expect.objectContaining({ index: 0, samplesPerSecond: 240 })]);
      worker.close();
    } finally {
      await coordinator.close();
    }
  });

  it('reads datasetPath only under the --dataset-root directories, and --max-member-params bounds members', async () => {
    const db = await createTestDatabase();
    const dataDir = join(root, 'roots-data');
    const [first, second] = [join(root, 'datasets-a'), join(root, 'datasets-b')];
    for (const dir of [dataDir, first, second]) mkdirSync(dir, { recursive: true });
    // sklearn digits rows: 64 pixels 0–16, then the label.
    const digits = Array.from({ length: 600 }, (_, i) =>
      [...Array.from({ length: 64 }, (_, j) => (i * 7 + j * 3) % 17), i % 10].join(','),
    ).join('\n');
    for (const dir of [dataDir, second]) writeFileSync(join(dir, 'digits.csv'), digits);
    const coordinator = await main({
      argv: [
        ...['--port', '0', '--data-dir', dataDir, '--dataset-root', first, '--dataset-root', second],
        ...['--max-member-params', '20000'],
      ],
      env: { LOG_LEVEL: 'silent', DATABASE_URL: db.connectionString },
      print: () => {},
      handleSignals: false,
    });
    try {
      const admin = httpClient(coordinator, coordinator.adminToken);
      const config = { dataset: 'digits', members: 2, epochs: 1, batchSize: 32 } as const;
      const { id } = await admin.createRun({ body: { ...config, datasetPath: join(second, 'digits.csv') } });
      await admin.cancelRun({ params: { id } });
      await expect(
        admin.createRun({ body: { ...config, datasetPath: join(dataDir, 'digits.csv') } }),
      ).rejects.toMatchObject({ status: 400, reason: /outside the dataset roots/ });
      // A digits mlp is 11,410 parameters at its default width 50, 59,146 at width 128.
      await expect(
        admin.createRun({ body: { ...config, memberOverrides: [{ member: 1, width: 128 }] } }),
      ).rejects.toMatchObject({
        status: 400,
        reason: /^member 1 \(width 128\) has 59,146 parameters: over the limit of 20,000 /,
      });
      // A model file is judged the same way, and against the dataset's shape (400·64+400 + 10·400+10).
      const modelFile = (units: number, classes: number): ModelFile => ({
        fileName: 'wide.json',
        name: 'wide',
        inputShape: [64],
        layers: [
          { kind: 'dense', name: 'h', units, activation: 'relu', init: 'heNormal' },
          { kind: 'dense', name: 'out', units: classes, activation: 'softmax', init: 'glorotUniform' },
        ],
      });
      await expect(admin.createRun({ body: { ...config, modelFile: modelFile(400, 10) } })).rejects.toMatchObject({
        status: 400,
        reason: /^model file wide\.json has 30,010 parameters per member: over the limit of 20,000 /,
      });
      await expect(admin.createRun({ body: { ...config, modelFile: modelFile(40, 4) } })).rejects.toMatchObject({
        status: 400,
        reason: "model file wide.json: layer 1 'out' (Dense) has 4 units, the output over the classes; the dataset has 10 classes (the digits dataset)",
      });
    } finally {
      await coordinator.close();
      await db.drop();
    }
  });

  it('refuses a bad environment before starting anything', async () => {
    await expect(main({ argv: ['--port', 'abc'], env: {}, handleSignals: false })).rejects.toThrow(
      /CHORUS_PORT/,
    );
    await expect(main({ argv: ['--bogus'], env: {}, handleSignals: false })).rejects.toThrow(/bogus/);
    await expect(
      main({ argv: ['--max-member-params', 'many'], env: {}, handleSignals: false }),
    ).rejects.toThrow(/CHORUS_MAX_MEMBER_PARAMS/);
  });
});
