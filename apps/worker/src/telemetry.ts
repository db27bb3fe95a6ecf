import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { backendMemory } from '@chorus/models';

/**
 * A worker's Prometheus metrics (`--metrics-port`; README "Metrics" lists them) on the registry it
 * is given, never prom-client's global one. Training progress comes in windows of steps (the
 * member runner reports one every few steps); the rest is read on each scrape.
 */
export interface WorkerTelemetry {
  registry: Registry;
  /** A member trained `steps` steps of `samples` samples in `seconds`. */
  trained(memberId: string, window: { steps: number; samples: number; seconds: number }): void;
  /** The member is no longer trained here: its throughput leaves the sum. */
  ended(memberId: string): void;
  /** When the last step finished (ms since the epoch), or undefined before the first. */
  lastStepAt(): number | undefined;
}

/** Seconds per step: from a small MLP on a GPU to a CNN on the cpu backend. */
const STEP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createWorkerTelemetry(deps: {
  registry: Registry;
  backend: string;
  device: string;
  membersHeld: () => number;
  now?: () => number;
}): WorkerTelemetry {
  const registers = [deps.registry];
  const now = deps.now ?? Date.now;
  collectDefaultMetrics({ register: deps.registry });
  new Gauge({
    name: 'chorus_worker_info',
    help: 'Always 1; its labels say which tfjs backend and device this worker trains on.',
    labelNames: ['backend', 'device'],
    registers,
  }).set({ backend: deps.backend, device: deps.device }, 1);
  new Gauge({
    name: 'chorus_worker_members_held',
    help: 'Members this worker trains now.',
    registers,
    collect() {
      this.set(deps.membersHeld());
    },
  });
  /** The latest samples/s of each member trained now. */
  const rates = new Map<string, number>();
  new Gauge({
    name: 'chorus_worker_samples_per_second',
    help: 'Training throughput: the latest samples/s of every member held, summed.',
    registers,
    collect() {
      this.set([...rates.values()].reduce((a, b) => a + b, 0));
    },
  });
  new Gauge({
    name: 'chorus_worker_tensor_bytes',
    help: "Bytes of the live tensors' data (tfjs memory()).",
    registers,
    collect() {
      this.set(backendMemory().tensorBytes);
    },
  });
  // Only for a backend that reports GPU memory (webgpu, webgl): a gauge without labels reads 0
  // when unset, which would claim an empty GPU.
  if (backendMemory().deviceBytes !== undefined) {
    new Gauge({
      name: 'chorus_worker_device_memory_bytes',
      help: 'Bytes the tfjs backend holds on the GPU.',
      registers,
      collect() {
        this.set(backendMemory().deviceBytes ?? 0);
      },
    });
  }
  const steps = new Counter({
    name: 'chorus_worker_steps_total',
    help: 'Training steps (mini-batches).',
    registers,
  });
  const samples = new Counter({ name: 'chorus_worker_samples_total', help: 'Samples trained.', registers });
  const stepSeconds = new Histogram({
    name: 'chorus_worker_step_seconds',
    help: 'Time per training step (each step of a reported window counted at the window’s mean).',
    buckets: STEP_BUCKETS,
    registers,
  });
  let last: number | undefined;
  return {
    registry: deps.registry,
    trained(memberId, window) {
      if (window.steps <= 0) return;
      last = now();
      steps.inc(window.steps);
      samples.inc(window.samples);
      if (window.seconds > 0) rates.set(memberId, window.samples / window.seconds);
      const mean = window.seconds / window.steps;
      for (let i = 0; i < window.steps; i++) stepSeconds.observe(mean);
    },
    ended(memberId) {
      rates.delete(memberId);
    },
    lastStepAt: () => last,
  };
}
