import { describe, expect, it } from 'vitest';
import { accuracyBounds, membersChartOption, strategyChartOption } from './compare-charts';

interface Series {
  name: string;
  xAxisIndex: number;
  symbol: string;
  data: unknown;
  lineStyle: { color: string; type?: string };
}

describe('accuracyBounds', () => {
  it('widens to whole 5 % steps within [0, 1]', () => {
    expect(accuracyBounds([0.912, 0.973])).toEqual({ min: 0.9, max: 1 });
    expect(accuracyBounds([0.5, 0.55])).toEqual({ min: 0.5, max: 0.55 });
    expect(accuracyBounds([0.02])).toEqual({ min: 0, max: 0.05 });
    expect(accuracyBounds([])).toEqual({ min: 0, max: 1 });
  });
});

describe('strategyChartOption', () => {
  it('draws one small chart per strategy and one line per run, marker shape per run', () => {
    const option = strategyChartOption(
      [
        {
          id: 'a',
          label: 'A · first',
          letter: 'A',
          epochs: 2,
          color: '#0072B2',
          rounds: [
            { round: 1, strategy: 'soft', accuracy: 0.9 },
            { round: 0, strategy: 'soft', accuracy: 0.8 },
            { round: 0, strategy: 'hard', accuracy: 0.78 },
          ],
        },
        {
          id: 'b',
          label: 'B · second',
          letter: 'B',
          epochs: 2,
          color: '#E69F00',
          rounds: [{ round: 0, strategy: 'soft', accuracy: 0.85 }],
        },
      ],
      ['hard', 'soft'],
    ) as {
      series: Series[];
      grid: unknown[];
      legend: { data: string[] };
      yAxis: Array<{ min: number; max: number }>;
    };
    expect(option.grid).toHaveLength(2);
    expect(option.legend.data).toEqual(['A · first', 'B · second']);
    expect(option.series.map((s) => [s.name, s.xAxisIndex, s.symbol, s.data])).toEqual([
      // Round r at epoch r + 1 (1-based, as the members' curves count epochs).
      ['A · first', 0, 'circle', [[1, 0.78]]],
      ['B · second', 0, 'rect', []],
      [
        'A · first',
        1,
        'circle',
        [
          [1, 0.8],
          [2, 0.9],
        ],
      ],
      ['B · second', 1, 'rect', [[1, 0.85]]],
    ]);
    // One scale for every strategy.
    expect(option.yAxis.map((y) => [y.min, y.max])).toEqual([
      [0.75, 0.9],
      [0.75, 0.9],
    ]);
  });
});

describe('membersChartOption', () => {
  it('draws each run’s mean (solid) and best member (dashed) on the accuracy and loss grids', () => {
    const option = membersChartOption([
      {
        id: 'a',
        label: 'A · x',
        letter: 'A',
        epochs: 2,
        color: '#0072B2',
        curves: {
          epochs: 2,
          mean: { accuracy: [[0.5, 0.5]], loss: [[0.5, 1.2]] },
          best: { index: 3, accuracy: [[0.5, 0.6]], loss: [[0.5, 1]] },
        },
      },
      { id: 'b', label: 'B · y', letter: 'B', epochs: 2, color: '#E69F00', curves: null },
    ]) as { series: Series[]; legend: { data: string[] } };
    expect(option.series.map((s) => [s.name, s.xAxisIndex, s.lineStyle.type])).toEqual([
      ['A mean', 0, 'solid'],
      ['A mean', 1, 'solid'],
      ['A best member (#3)', 0, 'dashed'],
      ['A best member (#3)', 1, 'dashed'],
    ]);
    expect(option.legend.data).toEqual(['A mean', 'A best member (#3)']);
  });
});

describe('aligned by share of training', () => {
  it('puts round r of an E-epoch run at (r + 1) / E, and curves at epoch / E', () => {
    const strategy = strategyChartOption(
      [
        {
          id: 'a',
          label: 'A · a',
          letter: 'A',
          color: '#0072B2',
          epochs: 4,
          rounds: [
            { round: 1, strategy: 'soft', accuracy: 0.5 },
            { round: 3, strategy: 'soft', accuracy: 0.7 },
          ],
        },
      ],
      ['soft'],
      'progress',
    ) as { series: Series[]; xAxis: Array<{ max: number; name: string }> };
    expect(strategy.series[0]?.data).toEqual([
      [0.5, 0.5],
      [1, 0.7],
    ]);
    expect(strategy.xAxis[0]).toMatchObject({ max: 1, name: 'share of training' });

    const members = membersChartOption(
      [
        {
          id: 'a',
          label: 'A · a',
          letter: 'A',
          color: '#0072B2',
          epochs: 2,
          curves: { epochs: 2, mean: { accuracy: [[0.5, 0.4]], loss: [[2, 0.3]] }, best: null },
        },
      ],
      'progress',
    ) as { series: Series[] };
    expect(members.series.map((s) => s.data)).toEqual([[[0.25, 0.4]], [[1, 0.3]]]);
  });
});
