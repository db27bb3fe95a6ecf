import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  predictWithEnsemble,
  readEnsembleExport,
  selectBackend,
  writeTestEnsemble,
  type LoadedEnsemble,
} from '@chorus/models';
import { PredictAnswerSchema, ServeHealthSchema } from '@chorus/protocol';
import { createServeServer } from './serve-server';
import { servedModelOf } from './served-model';

const TOKEN = 'serve-token-0123456789';
let fixture: Awaited<ReturnType<typeof writeTestEnsemble>>;
let ensemble: LoadedEnsemble;
let open: FastifyInstance;
let guarded: FastifyInstance;

const rowsOf = (x: Float32Array, from: number, count: number, features: number): number[][] =>
  Array.from({ length: count }, (_, i) =>
    Array.from(x.subarray((from + i) * features, (from + i + 1) * features)),
  );

beforeAll(async () => {
  await selectBackend('cpu');
  fixture = await writeTestEnsemble({ runId: 'local-serve-test' });
  ensemble = await readEnsembleExport(fixture.dir);
  const model = servedModelOf(ensemble);
  open = await createServeServer({ model, maxRows: 8, maxBodyBytes: 64 * 1024 });
  guarded = await createServeServer({ model, token: TOKEN });
});

afterAll(async () => {
  await open?.close();
  await guarded?.close();
  ensemble?.dispose();
  await fixture?.remove();
});

const predict = (app: FastifyInstance, body: unknown, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/predict',
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('chorus serve', () => {
  it('answers every member, every strategy and the disagreement, as predictWithEnsemble computes them', async () => {
    const rows = rowsOf(fixture.testX, 0, 3, fixture.features);
    const response = await predict(open, { rows });
    expect(response.statusCode).toBe(200);
    const answer = PredictAnswerSchema.parse(response.json());
    expect(answer.strategy).toBe('soft');
    expect(answer.classNames).toEqual(['top-left', 'top-right', 'bottom-left', 'bottom-right']);

    const expected = await predictWithEnsemble(ensemble, Float32Array.from(rows.flat()), 3);
    answer.predictions.forEach((row, r) => {
      expect(row.class).toBe(expected.strategies.soft!.classes[r]);
      expect(row.className).toBe(answer.classNames[row.class]);
      expect(row.probability).toBeCloseTo(expected.strategies.soft!.probs[r * 4 + row.class]!, 6);
      expect(row.members.map((m) => m.member)).toEqual([0, 1, 2]);
      row.members.forEach((m, i) =>
        m.probabilities.forEach((p, c) => expect(p).toBeCloseTo(expected.memberProbs[i]![r * 4 + c]!, 6)),
      );
      expect(row.strategies.map((s) => s.strategy)).toEqual(Object.keys(expected.strategies));
      for (const s of row.strategies) expect(s.class).toBe(expected.strategies[s.strategy]!.classes[r]);
      expect(row.disagreement).toBeCloseTo(expected.disagreement[r]!, 6);
    });
  });

  it('answers concurrent requests each with its own rows (batched)', async () => {
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        predict(open, { rows: rowsOf(fixture.testX, i, 1, fixture.features) }),
      ),
    );
    const alone = await predictWithEnsemble(ensemble, fixture.testX.subarray(0, 6 * fixture.features), 6);
    responses.forEach((response, i) => {
      const [row] = PredictAnswerSchema.parse(response.json()).predictions;
      expect(row!.members[1]!.probabilities[2]).toBeCloseTo(alone.memberProbs[1]![i * 4 + 2]!, 6);
    });
    const health = ServeHealthSchema.parse((await open.inject({ method: 'GET', url: '/health' })).json());
    expect(health.members).toBe(3);
    expect(health.rows).toBe(3 + 6);
  });

  it('shows the manifest without file paths', async () => {
    const view = (await open.inject({ method: 'GET', url: '/ensemble' })).json();
    expect(view.runId).toBe('local-serve-test');
    expect(view.dataset.inputShape).toEqual([8, 8, 1]);
    expect(view.files).toBeUndefined();
    expect(view.members).toHaveLength(3);
    for (const member of view.members) expect(member.path).toBeUndefined();
  });

  it('refuses a wrong feature count, naming the row (400)', async () => {
    const response = await predict(open, { rows: [[1, 2, 3]] });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      ok: false,
      code: 'invalid-input',
      message: expect.stringContaining('rows.0: has 3 values; this ensemble takes 64'),
    });
  });

  it('refuses a value outside the raw range the ensemble was trained on (400)', async () => {
    const row = new Array(64).fill(0.5);
    row[5] = 255;
    const response = await predict(open, { rows: [row] });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toContain('row 0, value 6: 255 is outside the raw range [0, 1]');
  });

  it('refuses an empty body, malformed JSON and a body without rows (400)', async () => {
    for (const body of ['', '{"rows": [[1,', '{}', '[]']) {
      const response = await predict(open, body);
      expect(response.statusCode, body).toBe(400);
      expect(response.json().code, body).toBe('invalid-input');
    }
  });

  it('refuses more rows than --max-rows and a body over the size limit (413)', async () => {
    const tooMany = await predict(open, { rows: rowsOf(fixture.testX, 0, 9, fixture.features) });
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json()).toMatchObject({
      code: 'too-large',
      message: expect.stringContaining('at most 8'),
    });
    const huge = await predict(open, { rows: [new Array(20_000).fill(0.123456)] });
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toMatchObject({ code: 'too-large', message: expect.stringContaining('65536 bytes') });
  });

  it('with a token: refuses a missing or wrong one (401), serves the right one, /health stays open', async () => {
    const rows = rowsOf(fixture.testX, 0, 1, fixture.features);
    expect((await predict(guarded, { rows })).statusCode).toBe(401);
    const wrong = await predict(guarded, { rows }, { authorization: 'Bearer not-the-token-0123456789' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ ok: false, code: 'unauthorized' });
    expect((await guarded.inject({ method: 'GET', url: '/ensemble' })).statusCode).toBe(401);
    expect((await predict(guarded, { rows }, { authorization: `Bearer ${TOKEN}` })).statusCode).toBe(200);
    expect((await guarded.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('takes an image upload as one row, sized and scaled as the dataset holds its rows', async () => {
    // An 8×8 grey PNG (the synthetic set's size: no resizing); its raw range is [0, 1], so v → v / 255.
    const pixels = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 256);
    const png = await sharp(pixels, { raw: { width: 8, height: 8, channels: 1 } })
      .png()
      .toBuffer();
    const upload = (query = '') =>
      open.inject({
        method: 'POST',
        url: `/predict${query}`,
        headers: { 'content-type': 'image/png' },
        payload: png,
      });
    const asRows = async (values: number[]) => (await predict(open, { rows: [values] })).json();

    const image = await upload();
    expect(image.statusCode).toBe(200);
    expect(image.json()).toEqual(await asRows(Array.from(pixels, (v) => v / 255)));
    // ?invert=1: dark ink on light paper becomes light on dark.
    expect((await upload('?invert=1')).json()).toEqual(
      await asRows(Array.from(pixels, (v) => (255 - v) / 255)),
    );

    const notImage = await open.inject({
      method: 'POST',
      url: '/predict',
      headers: { 'content-type': 'image/png' },
      payload: Buffer.from('not a png at all'),
    });
    expect(notImage.statusCode).toBe(400);
    expect(notImage.json().message).toMatch(/^the body is not an image Chorus can read/);
  });
});
