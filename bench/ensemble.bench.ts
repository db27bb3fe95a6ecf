/**
 * Voting, scoring, diversity and learned-combiner fitting at the size of a large evaluation round.
 * Run: npm run bench:ensemble
 * Prints the median of several repeats per step; nothing is asserted.
 */
// bench/ belongs to the root project (tag type:app), which may use every lib.
import {
  argmaxLabels,
  combine,
  diversity,
  evaluateEnsemble,
  fitCombiner,
  LEARNED_COMBINERS,
  scoreProbabilities,
  VOTING_STRATEGIES,
} from '@chorus/ensemble';

const ROWS = 10_000;
const CLASSES = 10;
const MEMBERS = 16;
const REPEATS = 9;
const SEED = 20_240_917;

/** mulberry32: a tiny seeded generator, so every run benchmarks the same numbers. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Softmax of noisy logits with a boost on the true class: members around 60–80 % accurate. */
function makeSplit(random: () => number, rows: number): { members: Float32Array[]; truth: Int32Array } {
  const truth = new Int32Array(rows);
  for (let r = 0; r < rows; r++) truth[r] = Math.floor(random() * CLASSES);
  const members = Array.from({ length: MEMBERS }, () => {
    const skill = 1.5 + random() * 1.5;
    const probs = new Float32Array(rows * CLASSES);
    const logits = new Float64Array(CLASSES);
    for (let r = 0; r < rows; r++) {
      let max = -Infinity;
      for (let c = 0; c < CLASSES; c++) {
        logits[c] = 2 * random() + (c === truth[r] ? skill : 0);
        if ((logits[c] as number) > max) max = logits[c] as number;
      }
      let sum = 0;
      for (let c = 0; c < CLASSES; c++) {
        logits[c] = Math.exp((logits[c] as number) - max);
        sum += logits[c] as number;
      }
      for (let c = 0; c < CLASSES; c++) probs[r * CLASSES + c] = (logits[c] as number) / sum;
    }
    return probs;
  });
  return { members, truth };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/**
 * Prints the median wall time and the median CPU time of this process: on a shared machine the
 * wall time includes waiting for a core, the CPU time does not (everything here is single-threaded).
 */
function time(label: string, fn: () => unknown): void {
  fn(); // warm-up (JIT)
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    const startCpu = process.cpuUsage();
    fn();
    const usedCpu = process.cpuUsage(startCpu);
    wall.push(performance.now() - start);
    cpu.push((usedCpu.user + usedCpu.system) / 1000);
  }
  const ms = (v: number): string => v.toFixed(2).padStart(8);
  console.log(`${label.padEnd(32)} ${ms(median(wall))} ms wall ${ms(median(cpu))} ms cpu`);
}

const random = seededRandom(SEED);
const test = makeSplit(random, ROWS);
const validation = makeSplit(random, ROWS);
const weights = Array.from({ length: MEMBERS }, () => 1 / MEMBERS);
const labels = test.members.map((p) => argmaxLabels(p, CLASSES));

console.log(
  `N = ${ROWS}, C = ${CLASSES}, M = ${MEMBERS}; median of ${REPEATS} runs; combine() includes validating its input\n`,
);
for (const strategy of VOTING_STRATEGIES) {
  time(`combine ${strategy}`, () => combine(strategy, test.members, CLASSES, weights));
}
const soft = combine('soft', test.members, CLASSES);
time('scoreProbabilities', () => scoreProbabilities(soft.scores, test.truth, CLASSES));
time('argmaxLabels × M', () => test.members.map((p) => argmaxLabels(p, CLASSES)));
time('diversity', () => diversity(labels, test.truth));
time('all 5 strategies + diversity', () => {
  for (const strategy of VOTING_STRATEGIES) combine(strategy, test.members, CLASSES, weights);
  return diversity(labels, test.truth);
});
for (const combiner of LEARNED_COMBINERS) {
  time(`fit ${combiner}`, () =>
    fitCombiner(combiner, validation.members, validation.truth, CLASSES, { seed: 1 }),
  );
}
time('fit all 3 learned combiners', () => {
  for (const combiner of LEARNED_COMBINERS) {
    fitCombiner(combiner, validation.members, validation.truth, CLASSES, { seed: 1 });
  }
});
time('evaluateEnsemble (2 splits, all)', () => evaluateEnsemble({ numClasses: CLASSES, validation, test, seed: 1 }));
