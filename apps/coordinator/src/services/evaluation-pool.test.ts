import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { EnsembleInputError } from '@chorus/ensemble';
import { LIVE_ROUND } from '@chorus/db';
import { createEvaluationPool } from './evaluation-pool';
import { runEvaluationJob, type EvaluationJob } from './evaluation-job';

/**
 * The evaluation thread against runEvaluationJob on this thread: six members of differing skill
 * on 300 validation and 400 test rows of 5 classes (seeded), so every strategy, learned combiner
 * and diversity measure has something to compute.
 */
function job(members: number, seed: number): EvaluationJob {
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
  const numClasses = 5;
  const truth = (rows: number) => Int32Array.from({ length: rows }, () => Math.floor(random() * numClasses));
  const probabilities = (labels: Int32Array, skill: number) => {
    const p = new Float32Array(labels.length * numClasses);
    labels.forEach((label, r) => {
      let sum = 0;
      for (let c = 0; c < numClasses; c++) {
        const v = random() + (c === label ? skill * 3 : 0);
        p[r * numClasses + c] = v;
        sum += v;
      }
      for (let c = 0; c < numClasses; c++) p[r * numClasses + c]! /= sum;
    });
    return p;
  };
  const validationTruth = truth(300);
  const testTruth = truth(400);
  const skills = Array.from({ length: members }, (_, m) => 0.2 + (m % 3) * 0.3);
  return {
    runId: 'run-1',
    numClasses,
    seed,
    validationTruth,
    testTruth,
    rounds: [LIVE_ROUND, 2],
    memberIndices: skills.map((_, m) => m),
    validation: skills.map((s) => probabilities(validationTruth, s)),
    test: skills.map((s) => probabilities(testTruth, s)),
  };
}

const pool = createEvaluationPool({ logger: pino({ level: 'silent' }) });
afterAll(() => pool.close());

describe('the coordinator evaluation thread', () => {
  it('gives what runEvaluationJob gives on this thread, value for value', async () => {
    for (const input of [job(6, 7), job(2, 8)]) {
      const { seconds, ...there } = await pool.evaluate(input);
      expect(seconds).toBeGreaterThan(0);
      const here = runEvaluationJob(input);
      expect(there).toStrictEqual(here);
      // Every number bit for bit (toStrictEqual tells -0 from 0; this also compares NaN's).
      const bits = (value: unknown) =>
        JSON.stringify(value, (_, v: unknown) =>
          typeof v === 'number' ? Buffer.from(new Float64Array([v]).buffer).toString('hex') : v,
        );
      expect(bits(there.rows)).toBe(bits(here.rows));
      expect(there.rows.ensemble.length).toBeGreaterThan(0);
    }
  }, 60_000);

  it('throws what the evaluation threw, of the same class', async () => {
    const bad = { ...job(3, 9), numClasses: 1 };
    const thrown = (() => {
      try {
        runEvaluationJob(bad);
      } catch (error) {
        return error as Error;
      }
      throw new Error('runEvaluationJob accepted numClasses 1');
    })();
    expect(thrown).toBeInstanceOf(EnsembleInputError);
    const there = await pool.evaluate(bad).then(
      () => new Error('the thread accepted numClasses 1'),
      (error: unknown) => error as Error,
    );
    expect(there).toBeInstanceOf(EnsembleInputError);
    expect(there.message).toBe(thrown.message);
    // The thread still evaluates after a failure.
    await expect(pool.evaluate(job(2, 10))).resolves.toMatchObject({ rows: { ensemble: expect.any(Array) } });
  }, 60_000);

  it('fails what it holds when closed, and starts a new thread for the next evaluation', async () => {
    const held = expect(pool.evaluate(job(6, 11))).rejects.toMatchObject({
      code: 'unavailable',
      message: 'the coordinator is shutting down',
    });
    await pool.close();
    await held;
    const input = job(3, 12);
    const { seconds: _, ...after } = await pool.evaluate(input);
    expect(after).toStrictEqual(runEvaluationJob(input));
  }, 60_000);
});
