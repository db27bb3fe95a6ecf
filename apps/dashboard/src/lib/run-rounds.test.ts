import { describe, expect, it } from 'vitest';
import { diversity } from '@chorus/ensemble';
import { accuracyDiversityPoints, livePoint, roundSummaries, type EnsembleRow } from './run-rounds';

const row = (round: number, split: string, strategy: string, accuracy: number): EnsembleRow => ({
  round,
  split,
  strategy,
  accuracy,
  // Best member 0.75, mean member 2/3 in every round of this example.
  gainOverBest: accuracy - 0.75,
  gainOverMean: accuracy - 2 / 3,
});

describe('round summaries', () => {
  const truth = Int32Array.from([0, 0, 0, 0]);
  const labels = [
    Int32Array.from([0, 0, 0, 1]),
    Int32Array.from([0, 1, 0, 1]),
    Int32Array.from([1, 0, 0, 0]),
  ];
  const report = diversity(labels, truth);
  const { pairwise, mean, ...rest } = JSON.parse(JSON.stringify(report)) as typeof report;
  const diversityRows = [
    { round: 0, split: 'test', summary: { ...mean, ...rest }, pairwise },
    // Another split, left out (its shapes are those of any stored row).
    { round: 0, split: 'validation', summary: { ...mean, ...rest }, pairwise },
    { round: -1, split: 'test', summary: { ...mean, ...rest }, pairwise },
  ];
  const ensembleRows = [
    row(-1, 'test', 'soft', 0.99),
    row(0, 'validation', 'soft', 0.5),
    row(0, 'test', 'soft', 0.75),
    row(0, 'test', 'hard', 1),
    row(1, 'test', 'soft', 0.8),
  ];

  it('keeps complete test rounds with best and mean member and per-member accuracy and disagreement', () => {
    const rounds = roundSummaries(ensembleRows, diversityRows);
    expect(rounds.map((r) => r.round)).toEqual([0, 1]);
    const [r0, r1] = rounds;
    expect(r0?.strategies).toEqual({ soft: 0.75, hard: 1 });
    expect(r0?.bestMember).toBeCloseTo(0.75, 12);
    expect(r0?.meanMember).toBeCloseTo(2 / 3, 12);
    expect(r0?.diversity?.disagreement).toBeCloseTo(0.5, 12); // (1/4 + 2/4 + 3/4) / 3
    expect(r0?.memberDisagreement).toEqual([0.375, 0.5, 0.625]);
    expect(r0?.memberAccuracy.map((a) => a?.toFixed(9))).toEqual([
      '0.750000000',
      '0.500000000',
      '0.750000000',
    ]);
    expect(r1).toMatchObject({ diversity: null, memberAccuracy: [], memberDisagreement: [] });
  });

  it('turns rounds into scatter points: members where known, the ensemble of one strategy', () => {
    const points = accuracyDiversityPoints(roundSummaries(ensembleRows, diversityRows), 'hard');
    expect(points.members.map((p) => [p.member, p.disagreement, Number(p.accuracy.toFixed(9))])).toEqual([
      [0, 0.375, 0.75],
      [1, 0.5, 0.5],
      [2, 0.625, 0.75],
    ]);
    expect(points.ensemble).toEqual([
      { round: 0, member: null, disagreement: report.mean.disagreement, accuracy: 1 },
    ]);
  });

  it('prefers the accuracies the coordinator stores, with their member indices, even for two members', () => {
    const two = diversity([Int32Array.from([0, 0, 1, 0]), Int32Array.from([0, 1, 1, 1])], truth);
    const { pairwise: p2, mean: m2, ...r2 } = JSON.parse(JSON.stringify(two)) as typeof two;
    // A live view over members 1 and 3 of a larger run.
    const stored = { ...m2, ...r2, memberIndices: [1, 3], memberAccuracies: [0.75, 0.25] };
    const rounds = roundSummaries(
      [row(4, 'test', 'soft', 0.75)],
      [{ round: 4, split: 'test', summary: stored, pairwise: p2 }],
    );
    expect(rounds[0]?.memberAccuracy).toEqual([0.75, 0.25]);
    const points = accuracyDiversityPoints(rounds, 'soft');
    expect(points.members.map((p) => [p.member, p.accuracy])).toEqual([
      [1, 0.75],
      [3, 0.25],
    ]);
  });
});

describe('live point', () => {
  const live = (memberCount: number, test: Record<string, number>) => ({
    memberCount,
    ensemble: { test: Object.fromEntries(Object.entries(test).map(([s, accuracy]) => [s, { accuracy }])) },
  });
  const round = (r: number, strategies: Record<string, number>) =>
    ({ round: r, strategies }) as unknown as Parameters<typeof livePoint>[0][number];

  it('stands in for the first round while not every member has finished an epoch', () => {
    // 4 members on 2 slots: 2 have sent predictions, there is no complete round yet.
    expect(livePoint([], live(2, { soft: 0.8, hard: 0.7 }))).toEqual({
      round: 0,
      strategies: { soft: 0.8, hard: 0.7 },
      memberCount: 2,
    });
  });

  it('follows the last complete round while some members are ahead, and disappears when it matches it', () => {
    const rounds = [round(0, { soft: 0.8 }), round(1, { soft: 0.82 })];
    expect(livePoint(rounds, live(4, { soft: 0.85 }))?.round).toBe(2);
    expect(livePoint(rounds, live(4, { soft: 0.82 }))).toBeNull();
    expect(livePoint(rounds, null)).toBeNull();
    expect(livePoint([], live(0, {}))).toBeNull();
  });
});
