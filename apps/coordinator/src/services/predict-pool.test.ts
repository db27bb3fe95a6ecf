import { dirname, join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictEnsembleRows, readEnsembleExport, selectBackend, writeTestEnsemble } from '@chorus/models';
import { MAX_PREDICT_ROWS, PredictAnswerSchema } from '@chorus/protocol';
import { createPredictPool, type PredictPool } from './predict-pool';

/**
 * The predict thread on a real export: five untrained small-cnn members on the synthetic set (8×8,
 * 4 classes) — untrained is enough, the thread must answer what predictEnsembleRows answers here.
 */
let fixture: Awaited<ReturnType<typeof writeTestEnsemble>>;
let dir: string;
let rows: number[][];
let pool: PredictPool;

beforeAll(async () => {
  await selectBackend('cpu');
  fixture = await writeTestEnsemble({ model: 'small-cnn', members: 5, seed: 5 });
  dir = fixture.dir;
  const f = fixture.features;
  rows = Array.from({ length: MAX_PREDICT_ROWS }, (_, i) => {
    const r = i % fixture.testCount;
    return Array.from(fixture.testX.subarray(r * f, (r + 1) * f));
  });
  pool = createPredictPool({ logger: pino({ level: 'silent' }), maxQueue: 4 });
}, 120_000);

afterAll(async () => {
  await pool?.close();
  await fixture?.remove();
});

describe('the coordinator predict thread', () => {
  it("answers what predictEnsembleRows answers on this thread; a missing export is 'missing'", async () => {
    const reply = await pool.send({ kind: 'predict', dir, body: { rows: rows.slice(0, 5) } });
    expect(reply.kind).toBe('answer');
    const answer = PredictAnswerSchema.parse((reply as { answer: unknown }).answer);
    const ensemble = await readEnsembleExport(dir);
    try {
      const here = await predictEnsembleRows(ensemble, Float32Array.from(rows.slice(0, 5).flat()), 5);
      expect(answer.predictions.map((p) => p.class)).toEqual(here.map((p) => p.class));
      answer.predictions.forEach((p, i) => expect(p.probability).toBeCloseTo(here[i]!.probability, 5));
    } finally {
      ensemble.dispose();
    }
    const missing = await pool.send({
      kind: 'predict',
      dir: join(dirname(dir), 'nothing'),
      body: { rows: [] },
    });
    expect(missing.kind).toBe('missing');
    const bad = await pool.send({ kind: 'predict', dir, body: { rows: [[1, 2]] } });
    expect(bad).toMatchObject({ kind: 'failed', code: 'invalid-input' });
  }, 120_000);

  it('refuses a request beyond its queue (503) and answers the queued ones', async () => {
    // How free the event loop stays is a figure, not a test: npm run bench:predict prints it.
    const body = { rows };
    const queued = [1, 2, 3, 4].map(() => pool.send({ kind: 'predict', dir, body }));
    await expect(pool.send({ kind: 'predict', dir, body })).rejects.toMatchObject({
      code: 'unavailable',
      message: 'the coordinator is already predicting 4 requests; try again shortly',
    });
    const replies = await Promise.all(queued);
    expect(replies.map((r) => r.kind)).toEqual(['answer', 'answer', 'answer', 'answer']);
    const again = await pool.send({ kind: 'predict', dir, body: { rows: rows.slice(0, 1) } });
    expect(again.kind).toBe('answer');
  }, 120_000);

  it('fails what it holds when closed, and starts a new thread for the next request', async () => {
    const held = expect(pool.send({ kind: 'predict', dir, body: { rows } })).rejects.toMatchObject({
      code: 'unavailable',
    });
    await pool.close();
    await held;
    const after = await pool.send({ kind: 'predict', dir, body: { rows: rows.slice(0, 2) } });
    expect(after.kind).toBe('answer');
  }, 120_000);
});
