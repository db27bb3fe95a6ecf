import { describe, expect, it } from 'vitest';
import { PALETTE } from '../../lib/palette';
import type { RoundSummary } from '../../lib/run-rounds';
import {
  accuracyDiversityOption,
  curvesOverlayOption,
  memberCurvesOption,
  pairwiseHeatmapOption,
  strategyAccuracyOption,
  validationCurvesOption,
} from './chart-options';

type Series = {
  name: string;
  type: string;
  data: unknown[];
  showSymbol?: boolean;
  sampling?: string;
  lineStyle?: { type?: string };
};
const seriesOf = (option: Record<string, unknown>) => option.series as Series[];

describe('run chart options', () => {
  it('draws one symbol-less, LTTB-sampled line per member, dashed past eight colours', () => {
    const curves = Array.from({ length: 9 }, (_, index) => ({
      index,
      loss: [[1, 2] as const, [2, 1] as const],
      accuracy: [[1, 0.5] as const],
    }));
    const option = memberCurvesOption(curves, 'loss') as Record<string, unknown>;
    const series = seriesOf(option);
    expect(series.map((s) => s.name)).toEqual(curves.map((c) => `Member ${c.index}`));
    expect(series.every((s) => s.type === 'line' && s.showSymbol === false && s.sampling === 'lttb')).toBe(
      true,
    );
    expect(series[0]?.data).toEqual([
      [1, 2],
      [2, 1],
    ]);
    expect(series[7]?.lineStyle?.type).toBe('solid');
    expect(series[8]?.lineStyle?.type).toBe('dashed');
    expect((option.color as string[])[8]).toBe(PALETTE[0]);
    const accuracy = memberCurvesOption(curves, 'accuracy') as {
      yAxis: { max: number; axisLabel: { formatter: (v: number) => string } };
    };
    expect(accuracy.yAxis.max).toBe(1);
    expect(accuracy.yAxis.axisLabel.formatter(0.8125)).toBe('81.3%');
    expect(seriesOf(curvesOverlayOption([], { x: 'step', y: 'loss' }) as Record<string, unknown>)).toEqual(
      [],
    );
  });

  it('plots each strategy after each epoch (round r at epoch r + 1) with the best and mean member as references', () => {
    const rounds = [
      { round: 0, strategies: { soft: 0.8, hard: 0.78 }, bestMember: 0.75, meanMember: 0.7 },
      { round: 1, strategies: { soft: 0.85 }, bestMember: null, meanMember: 0.72 },
    ] as unknown as RoundSummary[];
    const option = strategyAccuracyOption(rounds, ['hard', 'soft']) as Record<string, unknown>;
    expect((option.xAxis as { name: string }).name).toBe('epoch');
    const series = seriesOf(option);
    expect(series.map((s) => [s.name, s.data])).toEqual([
      ['hard', [[1, 0.78]]],
      [
        'soft',
        [
          [1, 0.8],
          [2, 0.85],
        ],
      ],
      ['best member', [[1, 0.75]]],
      [
        'mean member',
        [
          [1, 0.7],
          [2, 0.72],
        ],
      ],
    ]);
  });

  it('draws the live view as a hollow point after the last round, dashed from it, under the strategy name', () => {
    const rounds = [
      { round: 0, strategies: { soft: 0.8 }, bestMember: 0.75, meanMember: 0.7 },
    ] as unknown as RoundSummary[];
    const option = strategyAccuracyOption(rounds, ['soft'], {
      round: 1,
      strategies: { soft: 0.86 },
      memberCount: 2,
    }) as { series: Array<{ name: string; symbol: string; data: unknown[]; lineStyle: { type: string } }> };
    const live = option.series[1]!;
    expect([live.name, live.symbol, live.lineStyle.type]).toEqual(['soft', 'emptyCircle', 'dashed']);
    expect(live.data).toEqual([{ value: [1, 0.8], symbol: 'none' }, { value: [2, 0.86] }]);
    // Before any complete round: the live point alone, at epoch 1.
    const first = strategyAccuracyOption([], ['soft'], {
      round: 0,
      strategies: { soft: 0.6 },
      memberCount: 2,
    }) as {
      series: Array<{ name: string; data: unknown[] }>;
    };
    expect(first.series.map((s) => [s.name, s.data])).toEqual([
      ['soft', []],
      ['soft', [{ value: [1, 0.6] }]],
      ['best member', []],
      ['mean member', []],
    ]);
  });

  it('draws validation accuracy per member and for the soft vote with a point per epoch', () => {
    const option = validationCurvesOption({
      members: [{ index: 1, points: [[1, 0.6]] }],
      ensemble: [[1, 0.7]],
    }) as { series: Array<{ name: string; data: unknown; showSymbol: boolean }>; xAxis: { name: string } };
    expect(option.series.map((s) => [s.name, s.data, s.showSymbol])).toEqual([
      ['Member 1', [[1, 0.6]], true],
      ['Ensemble (soft vote)', [[1, 0.7]], true],
    ]);
    expect(option.xAxis.name).toBe('epoch');
  });

  it('turns a matrix into heatmap cells [column, row, value] without the diagonal', () => {
    const m = [
      [0, 0.25, 0.5],
      [0.25, 0, 0.75],
      [0.5, 0.75, 0],
    ];
    const option = pairwiseHeatmapOption(m, 'disagreement') as {
      series: Array<{ data: number[][] }>;
      visualMap: { min: number; max: number };
    };
    expect(option.series[0]?.data).toEqual([
      [1, 0, 0.25],
      [2, 0, 0.5],
      [0, 1, 0.25],
      [2, 1, 0.75],
      [0, 2, 0.5],
      [1, 2, 0.75],
    ]);
    expect(option.visualMap).toMatchObject({ min: 0, max: 0.75 });
    const label = (
      option.series[0] as unknown as { label: { formatter: (p: { value: number[] }) => string } }
    ).label;
    expect(label.formatter({ value: [1, 0, 0.25] })).toBe('0.25');
    // Cells that read "0.03" at two decimals get the digits that tell them apart.
    const close = pairwiseHeatmapOption(
      [
        [0, 0.0312, 0.0298],
        [0.0312, 0, 0.0314],
        [0.0298, 0.0314, 0],
      ],
      'disagreement',
    ) as unknown as { series: Array<{ label: { formatter: (p: { value: number[] }) => string } }> };
    const cells = [0.0312, 0.0298, 0.0314].map((v) => close.series[0]!.label.formatter({ value: [0, 1, v] }));
    expect(cells).toEqual(['0.0312', '0.0298', '0.0314']);
    expect(
      (pairwiseHeatmapOption(m, 'qStatistic') as { visualMap: { min: number; max: number } }).visualMap,
    ).toMatchObject({ min: -1, max: 1 });
  });

  it('scatters members per round and the ensemble as its own series', () => {
    const option = accuracyDiversityOption(
      {
        members: [
          { round: 0, member: 1, disagreement: 0.3, accuracy: 0.7 },
          { round: 1, member: 1, disagreement: 0.2, accuracy: 0.8 },
          { round: 0, member: 0, disagreement: 0.4, accuracy: 0.6 },
        ],
        ensemble: [{ round: 0, member: null, disagreement: 0.35, accuracy: 0.9 }],
      },
      'Ensemble (soft)',
    ) as Record<string, unknown>;
    expect(seriesOf(option).map((s) => [s.name, s.data])).toEqual([
      ['Member 0', [[0.4, 0.6, 0]]],
      [
        'Member 1',
        [
          [0.3, 0.7, 0],
          [0.2, 0.8, 1],
        ],
      ],
      ['Ensemble (soft)', [[0.35, 0.9, 0]]],
    ]);
  });
});
