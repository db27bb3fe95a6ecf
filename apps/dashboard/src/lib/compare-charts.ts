import type { EChartsCoreOption } from 'echarts/core';
import type { RunCurves } from './compare-curves';
import type { XY } from './run-downsample';
import { epochOfRound, formatPercent } from './format';

/**
 * ECharts options of the Compare page (built in the browser: they hold formatter functions).
 * One colour and one marker shape per run (palette.ts, colour-blind safe), so a run is never told
 * apart by colour alone; the strategies are small multiples on one shared accuracy scale.
 */

export interface ChartRun {
  id: string;
  /** "A · name": the letter tells same-named runs apart. */
  label: string;
  /** "A": for legends with several entries per run. */
  letter: string;
  color: string;
  /** The run's epochs: with `align: 'progress'` x becomes the share of training done. */
  epochs: number;
}

/**
 * `epoch`: x in epochs, 1-based (round r at epoch r + 1). `progress`: x as the share of each run's training
 * (round r ends epoch r + 1 of `epochs`), so a 3-epoch run and a 100-epoch run span the same width.
 */
export type XAlign = 'epoch' | 'progress';

export interface RoundScore {
  round: number;
  strategy: string;
  accuracy: number;
}

export const RUN_SYMBOLS = ['circle', 'rect', 'triangle', 'diamond'] as const;
export const runSymbol = (i: number) => RUN_SYMBOLS[i % RUN_SYMBOLS.length] as string;

const percentAxis = (v: number) => `${Math.round(v * 1000) / 10}%`;

/** Bounds of a shared accuracy axis: the data's range widened to whole 5 % steps, within [0, 1]. */
export function accuracyBounds(values: readonly number[]): { min: number; max: number } {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { min: 0, max: 1 };
  const min = Math.max(0, Math.floor(Math.min(...finite) * 20 + 1e-9) / 20);
  const max = Math.min(1, Math.ceil(Math.max(...finite) * 20 - 1e-9) / 20);
  return { min, max: max > min ? max : Math.min(1, min + 0.05) };
}

/** Ensemble test accuracy per strategy over the complete rounds: one small chart per strategy, one line per run. */
export function strategyChartOption(
  runs: ReadonlyArray<ChartRun & { rounds: readonly RoundScore[] }>,
  strategies: readonly string[],
  align: XAlign = 'epoch',
): EChartsCoreOption {
  const n = Math.max(1, strategies.length);
  const slot = 96 / n;
  const { min, max } = accuracyBounds(runs.flatMap((r) => r.rounds.map((s) => s.accuracy)));
  const maxRound = Math.max(0, ...runs.flatMap((r) => r.rounds.map((s) => s.round)));
  const progress = align === 'progress';
  // Round r follows epoch r + 1 (lib/format.ts): on the epoch axis of the members' curves too.
  const x = (run: ChartRun, round: number) =>
    progress ? epochOfRound(round) / Math.max(1, run.epochs) : epochOfRound(round);
  return {
    color: runs.map((r) => r.color),
    legend: { top: 0, data: runs.map((r) => r.label) },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v: unknown) => formatPercent(typeof v === 'number' ? v : null),
    },
    title: strategies.map((s, i) => ({
      text: s,
      left: `${3 + i * slot + (slot - 4) / 2}%`,
      top: 30,
      textAlign: 'center',
      textStyle: { fontSize: 13, fontWeight: 600 },
    })),
    grid: strategies.map((_, i) => ({
      left: `${3 + i * slot}%`,
      width: `${slot - 4}%`,
      top: 62,
      bottom: 44,
      containLabel: true,
    })),
    xAxis: strategies.map((_, i) => ({
      type: 'value',
      gridIndex: i,
      min: 0,
      max: progress ? 1 : epochOfRound(maxRound),
      // Narrow small multiples: three ticks (0, 50 %, 100 %) keep the labels apart.
      ...(progress ? { interval: 0.5, axisLabel: { formatter: percentAxis } } : { minInterval: 1 }),
      name: progress ? 'share of training' : 'epoch',
      nameLocation: 'middle',
      nameGap: 24,
    })),
    yAxis: strategies.map((_, i) => ({
      type: 'value',
      gridIndex: i,
      min,
      max,
      axisLabel: { formatter: percentAxis, show: i === 0 },
      ...(i === 0 && { name: 'test accuracy', nameLocation: 'middle', nameGap: 44 }),
    })),
    series: strategies.flatMap((strategy, i) =>
      runs.map((run, j) => {
        const data = run.rounds
          .filter((s) => s.strategy === strategy)
          .sort((a, b) => a.round - b.round)
          .map((s) => [x(run, s.round), s.accuracy]);
        return {
          type: 'line',
          name: run.label,
          xAxisIndex: i,
          yAxisIndex: i,
          symbol: runSymbol(j),
          symbolSize: 7,
          // Markers on a long run would hide the line; the legend still shows each run's shape.
          showSymbol: data.length <= 25,
          lineStyle: { color: run.color, width: 2 },
          itemStyle: { color: run.color },
          data,
        };
      }),
    ),
  };
}

/**
 * Members' training accuracy (left) and loss (right) over epochs: per run the members' mean
 * (solid) and its best member by test accuracy (dashed), in the run's colour.
 */
export function membersChartOption(
  runs: ReadonlyArray<ChartRun & { curves: RunCurves | null }>,
  align: XAlign = 'epoch',
): EChartsCoreOption {
  const progress = align === 'progress';
  const maxEpochs = progress ? 1 : Math.max(1, ...runs.map((r) => r.curves?.epochs ?? 1));
  const series = runs.flatMap((run, j) => {
    const c = run.curves;
    if (!c) return [];
    const scale = progress ? 1 / c.epochs : 1;
    const line = (name: string, points: readonly XY[], grid: number, dashed: boolean) => ({
      type: 'line',
      name,
      xAxisIndex: grid,
      yAxisIndex: grid,
      showSymbol: false,
      symbol: runSymbol(j),
      lineStyle: { color: run.color, width: dashed ? 1.5 : 2.5, type: dashed ? 'dashed' : 'solid' },
      itemStyle: { color: run.color },
      data: points.map(([px, py]) => [px * scale, py]),
    });
    const mean = `${run.letter} mean`;
    const best = c.best ? `${run.letter} best member (#${c.best.index})` : null;
    return [
      line(mean, c.mean.accuracy, 0, false),
      line(mean, c.mean.loss, 1, false),
      ...(c.best && best ? [line(best, c.best.accuracy, 0, true), line(best, c.best.loss, 1, true)] : []),
    ];
  });
  const names = [...new Set(series.map((s) => s.name))];
  return {
    legend: { top: 0, data: names },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v: unknown) => (typeof v === 'number' ? v.toFixed(3) : '—'),
    },
    title: [
      {
        text: 'training accuracy',
        left: '25%',
        top: 54,
        textAlign: 'center',
        textStyle: { fontSize: 13, fontWeight: 600 },
      },
      {
        text: 'training loss',
        left: '75%',
        top: 54,
        textAlign: 'center',
        textStyle: { fontSize: 13, fontWeight: 600 },
      },
    ],
    grid: [
      { left: '3%', width: '44%', top: 82, bottom: 44, containLabel: true },
      { left: '53%', width: '44%', top: 82, bottom: 44, containLabel: true },
    ],
    xAxis: [0, 1].map((i) => ({
      type: 'value',
      gridIndex: i,
      min: 0,
      max: maxEpochs,
      name: progress ? 'share of training' : 'epoch',
      ...(progress && { axisLabel: { formatter: percentAxis } }),
      nameLocation: 'middle',
      nameGap: 24,
    })),
    yAxis: [
      { type: 'value', gridIndex: 0, axisLabel: { formatter: percentAxis }, scale: true },
      { type: 'value', gridIndex: 1, scale: true },
    ],
    series,
  };
}
