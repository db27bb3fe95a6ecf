import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backends/select';
import { maxAbsDiff } from '../test-helpers';
import { hostMemory } from './host-memory';
import { HostAdam, HostSgd, makeUpdater, StockUpdater } from './optimizer';
import type { Updater } from './optimizer';
import { adamModuleBytes, WasmAdam } from './wasm-adam';

function setup(seed: number) {
  const shapes = [[7, 5], [5], [3, 4, 2]];
  const vars = shapes.map((s, i) =>
    tf.tidy(() => tf.variable(tf.randomNormal(s, 0, 1, 'float32', seed + i))),
  );
  const grads = (step: number) =>
    shapes.map((s, i) => tf.randomNormal(s, 0, 0.5, 'float32', 1000 * step + i));
  return { vars, grads };
}

describe.each(['cpu', 'wasm'] as const)('fused updates on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  it('host Adam follows tf.train.adam step for step', () => {
    const memory = hostMemory();
    expect(memory).not.toBeNull();
    const a = setup(1);
    const b = setup(1);
    const host = new HostAdam({ learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, memory!);
    const stock = new StockUpdater(tf.train.adam(0.01, 0.9, 0.999, 1e-7));
    const before = tf.memory().numTensors;
    for (let step = 1; step <= 5; step++) {
      const g = a.grads(step);
      host.apply(a.vars, g);
      stock.apply(b.vars, g);
      tf.dispose(g);
    }
    a.vars.forEach((v, i) =>
      expect(maxAbsDiff(v.dataSync(), (b.vars[i] as tf.Variable).dataSync())).toBeLessThan(2e-6),
    );
    // The stock optimizer keeps 2 moment tensors per variable; the host one keeps its moments off the engine.
    expect(tf.memory().numTensors - before).toBe(2 * a.vars.length);
    tf.dispose([...a.vars, ...b.vars]);
  });

  it.runIf(backend === 'wasm')('SIMD Adam (wasm module in the backend heap) follows tf.train.adam', () => {
    const api = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
    expect(api.validate(adamModuleBytes())).toBe(true);
    const a = setup(3);
    const b = setup(3);
    const simd = WasmAdam.create(
      { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      tf.backend() as never,
    );
    expect(simd).not.toBeNull();
    const stock = new StockUpdater(tf.train.adam(0.01, 0.9, 0.999, 1e-7));
    const before = tf.memory().numTensors;
    for (let step = 1; step <= 5; step++) {
      const g = a.grads(step);
      simd!.apply(a.vars, g);
      stock.apply(b.vars, g);
      tf.dispose(g);
    }
    // Shapes of 35, 5 and 24 elements: the SIMD body and the scalar tail both run.
    a.vars.forEach((v, i) =>
      expect(maxAbsDiff(v.dataSync(), (b.vars[i] as tf.Variable).dataSync())).toBeLessThan(2e-6),
    );
    expect(tf.memory().numTensors - before).toBe(2 * a.vars.length);
    tf.dispose([...a.vars, ...b.vars]);
  });

  it('host SGD follows tf.train.sgd', () => {
    const a = setup(2);
    const b = setup(2);
    const host = new HostSgd(0.1, hostMemory()!);
    const stock = new StockUpdater(tf.train.sgd(0.1));
    for (let step = 1; step <= 3; step++) {
      const g = a.grads(step);
      host.apply(a.vars, g);
      stock.apply(b.vars, g);
      tf.dispose(g);
    }
    a.vars.forEach((v, i) =>
      expect(maxAbsDiff(v.dataSync(), (b.vars[i] as tf.Variable).dataSync())).toBeLessThan(1e-6),
    );
    tf.dispose([...a.vars, ...b.vars]);
  });

  it('makeUpdater fuses Adam and SGD and keeps other optimizers', () => {
    const memory = hostMemory();
    expect(makeUpdater(tf.train.adam(0.001), memory)).toBeInstanceOf(
      backend === 'wasm' ? WasmAdam : HostAdam,
    );
    expect(makeUpdater(tf.train.sgd(0.001), memory)).toBeInstanceOf(HostSgd);
    expect(makeUpdater(tf.train.rmsprop(0.001), memory)).toBeInstanceOf(StockUpdater);
    expect(makeUpdater(tf.train.adam(0.001), null)).toBeInstanceOf(StockUpdater);
  });

  const settings = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
  const stock = (optimizer: tf.Optimizer) => ({ updater: new StockUpdater(optimizer), optimizer });
  const updaters: [string, () => { updater: Updater | null; optimizer?: tf.Optimizer }][] = [
    ['host Adam', () => ({ updater: new HostAdam(settings, hostMemory()!) })],
    [
      'SIMD Adam',
      () => ({ updater: backend === 'wasm' ? WasmAdam.create(settings, tf.backend() as never) : null }),
    ],
    ['host SGD', () => ({ updater: new HostSgd(0.1, hostMemory()!) })],
    ['tfjs Adam', () => stock(tf.train.adam(0.01, 0.9, 0.999, 1e-7))],
    ['tfjs RMSProp (centered, momentum)', () => stock(tf.train.rmsprop(0.01, 0.9, 0.5, 1e-7, true))],
    ['tfjs Adagrad', () => stock(tf.train.adagrad(0.05))],
  ];

  it.each(updaters)('%s: its exported state continues exactly in a fresh updater', async (_, make) => {
    if (make().updater === null) return; // SIMD Adam is wasm-only
    const before = tf.memory().numTensors;
    const straight = setup(4);
    const split = setup(4);
    const fresh = setup(4);
    const made = [make(), make(), make()];
    const [a, b, c] = made.map((m) => m.updater as Updater) as [Updater, Updater, Updater];
    for (let step = 1; step <= 6; step++) {
      const g = straight.grads(step);
      a.apply(straight.vars, g);
      if (step <= 3) b.apply(split.vars, g);
      tf.dispose(g);
    }
    const tensors = tf.memory().numTensors;
    const state = await b.exportState();
    expect(tf.memory().numTensors).toBe(tensors);
    // `fresh` takes over `split`'s values and its optimizer state.
    const to = new Map(split.vars.map((v, i) => [v, fresh.vars[i] as tf.Variable]));
    fresh.vars.forEach((v, i) => v.assign(split.vars[i] as tf.Variable));
    await c.importState({
      ...state,
      slots: state.slots.map((s) => ({ ...s, variable: to.get(s.variable)! })),
    });
    for (let step = 4; step <= 6; step++) {
      const g = straight.grads(step);
      c.apply(fresh.vars, g);
      tf.dispose(g);
    }
    fresh.vars.forEach((v, i) => expect(v.dataSync()).toEqual((straight.vars[i] as tf.Variable).dataSync()));
    tf.dispose([...straight.vars, ...split.vars, ...fresh.vars]);
    for (const m of made) m.optimizer?.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
