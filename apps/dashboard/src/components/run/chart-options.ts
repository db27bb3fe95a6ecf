import type { EChartsCoreOption } from 'echarts/core';
import { DIVERGING_RAMP, HEATMAP_RAMP, seriesColor, seriesDash } from '../../lib/palette';
import { distinguishingDecimals, epochOfRound, formatEpoch } from '../../lib/format';
import type { XY } from '../../lib/run-downsample';
import type { MemberCurve } from '../../lib/run-curves';
import type { LivePoint, RoundSummary, ScatterPoint } from '../../lib/run-rounds';
import type { ValidationCurves } from '../../lib/run-validation';

/**
 * ECharts option builders of the run page, pure functions of plain data, exported for other pages
 * (the Compare page overlays curves and rounds of several runs with the same builders).
 * Series colours come from the Okabe–Ito palette; past eight series the dash changes too, so no
 * series depends on colour alone. Pass the result to `<Chart option={…}/>`.
 */

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

export interface CurveSeries {
  name: string;
  points: readonly XY[];
}

/**
 * Several curves over one numeric x axis (steps, rounds…): lines without symbols, LTTB-sampled by
 * ECharts when dense, zoomable with the wheel and the slider. `percent` formats y as a percentage.
 */
export function curvesOverlayOption(
  series: readonly CurveSeries[],
  axes: { x: string; y: string; percent?: boolean; yMin?: number; yMax?: number; symbols?: boolean },
): EChartsCoreOption {
  const format = axes.percent ? pct : (v: number) => Number(v).toPrecision(4);
  return {
    color: series.map((_, i) => seriesColor(i)),
    grid: { left: 56, right: 20, top: 60, bottom: 64 },
    legend: { type: 'scroll', top: 0 },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v: unknown) => (typeof v === 'number' ? format(v) : String(v)),
    },
    xAxis: {
      type: 'value',
      name: axes.x,
      nameLocation: 'middle',
      nameGap: 26,
      min: 'dataMin',
      max: 'dataMax',
    },
    yAxis: {
      type: 'value',
      name: axes.y,
      scale: true,
      ...(axes.yMin !== undefined && { min: axes.yMin }),
      ...(axes.yMax !== undefined && { max: axes.yMax }),
      axisLabel: { formatter: format },
    },
    dataZoom: [
      { type: 'inside', xAxisIndex: 0 },
      { type: 'slider', xAxisIndex: 0, height: 16, bottom: 4 },
    ],
    series: series.map((s, i) => ({
      name: s.name,
      type: 'line',
      data: s.points,
      // Sparse curves (one point per epoch) need their points drawn; dense ones read as lines.
      showSymbol: axes.symbols ?? false,
      sampling: 'lttb',
      lineStyle: { width: 1.5, type: seriesDash(i) },
      emphasis: { focus: 'series' },
    })),
  };
}

/** Every member's training loss or accuracy over steps ("Member 0" … in the legend). */
export function memberCurvesOption(
  curves: readonly MemberCurve[],
  metric: 'loss' | 'accuracy',
): EChartsCoreOption {
  return curvesOverlayOption(
    curves.map((c) => ({ name: `Member ${c.index}`, points: c[metric] })),
    metric === 'loss'
      ? { x: 'step', y: 'training loss' }
      : { x: 'step', y: 'training accuracy', percent: true, yMax: 1 },
  );
}

/** Each member's validation accuracy after each epoch, and the soft vote's (lib/run-validation.ts). */
export function validationCurvesOption(curves: ValidationCurves): EChartsCoreOption {
  return curvesOverlayOption(
    [
      ...curves.members.map((m) => ({ name: `Member ${m.index}`, points: m.points })),
      ...(curves.ensemble.length > 0 ? [{ name: 'Ensemble (soft vote)', points: curves.ensemble }] : []),
    ],
    { x: 'epoch', y: 'validation accuracy', percent: true, yMax: 1, symbols: true },
  );
}

/**
 * Test accuracy of each voting strategy after each epoch (the complete evaluation rounds, x = the
 * 1-based epoch: lib/format.ts `epochOfRound`), with the best member
 * (dashed) and the mean member (dotted) of each round as reference lines.
 */
export function strategyAccuracyOption(
  rounds: readonly RoundSummary[],
  strategies: readonly string[],
  live: LivePoint | null = null,
): EChartsCoreOption {
  // The live view: a hollow point, dashed from the last complete round, under the strategy's
  // name (so the legend toggles both together).
  const liveSeries = (strategy: string, i: number) => {
    const accuracy = live?.strategies[strategy];
    if (!live || accuracy === undefined) return [];
    const previous = rounds.at(-1)?.strategies[strategy];
    const from =
      previous === undefined ? [] : [{ value: [epochOfRound(live.round - 1), previous], symbol: 'none' }];
    return [
      {
        name: strategy,
        type: 'line',
        data: [...from, { value: [epochOfRound(live.round), accuracy] }],
        symbol: 'emptyCircle',
        symbolSize: 9,
        lineStyle: { width: 1.5, type: 'dashed', color: seriesColor(i) },
        itemStyle: { color: seriesColor(i) },
      },
    ];
  };
  const reference = (name: string, pick: (r: RoundSummary) => number | null, type: 'dashed' | 'dotted') => ({
    name,
    type: 'line',
    data: rounds.flatMap((r) => {
      const v = pick(r);
      return v === null ? [] : [[epochOfRound(r.round), v]];
    }),
    symbol: 'none',
    lineStyle: { type, width: 2, color: '#59636e' },
    itemStyle: { color: '#59636e' },
  });
  return {
    grid: { left: 56, right: 20, top: 80, bottom: 40 },
    legend: { top: 0 },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v: unknown) => (typeof v === 'number' ? pct(v) : String(v)),
    },
    xAxis: { type: 'value', name: 'epoch', nameLocation: 'middle', nameGap: 26, minInterval: 1 },
    yAxis: { type: 'value', name: 'test accuracy', scale: true, max: 1, axisLabel: { formatter: pct } },
    series: [
      ...strategies.map((strategy, i) => ({
        name: strategy,
        type: 'line',
        data: rounds.flatMap((r) =>
          r.strategies[strategy] === undefined ? [] : [[epochOfRound(r.round), r.strategies[strategy]]],
        ),
        symbol: 'circle',
        symbolSize: 6,
        lineStyle: { width: 2, type: seriesDash(i) },
        itemStyle: { color: seriesColor(i) },
      })),
      ...strategies.flatMap(liveSeries),
      reference('best member', (r) => r.bestMember, 'dashed'),
      reference('mean member', (r) => r.meanMember, 'dotted'),
    ],
  };
}

export type HeatmapMeasure = 'disagreement' | 'qStatistic';

/**
 * A member × member matrix as a heatmap. Disagreement ∈ [0, 1] on a sequential ramp (darker = more
 * diverse); Q ∈ [−1, 1] on a diverging ramp (blue = members right and wrong together, vermillion =
 * opposite mistakes). The diagonal is left empty (a member compared with itself says nothing).
 */
export function pairwiseHeatmapOption(
  matrix: readonly (readonly number[])[],
  measure: HeatmapMeasure,
): EChartsCoreOption {
  const size = matrix.length;
  const names = Array.from({ length: size }, (_, i) => `M${i}`);
  const data: Array<[number, number, number]> = [];
  let max = 0;
  matrix.forEach((row, i) =>
    row.forEach((value, k) => {
      if (i === k) return;
      data.push([k, i, value]);
      max = Math.max(max, value);
    }),
  );
  const signed = measure === 'qStatistic';
  // Enough digits that two different cells never read the same (disagreements often all lie near 0.03).
  const digits = distinguishingDecimals(data.map((d) => d[2]));
  return {
    grid: { left: 48, right: 16, top: 12, bottom: 96 },
    tooltip: {
      formatter: (p: { value?: [number, number, number] }) =>
        p.value
          ? `Member ${p.value[1]} × member ${p.value[0]}: ${p.value[2].toFixed(Math.max(3, digits))}`
          : '',
    },
    xAxis: { type: 'category', data: names, splitArea: { show: true } },
    yAxis: { type: 'category', data: names, inverse: true, splitArea: { show: true } },
    visualMap: {
      min: signed ? -1 : 0,
      max: signed ? 1 : Math.max(max, 0.01),
      calculable: true,
      precision: signed ? 2 : digits,
      orient: 'horizontal',
      left: 'center',
      bottom: 4,
      itemHeight: 160,
      itemWidth: 12,
      inRange: { color: signed ? [...DIVERGING_RAMP] : [...HEATMAP_RAMP] },
      text: signed ? ['+1 (agree on mistakes)', '−1'] : ['more diverse', 'less'],
    },
    series: [
      {
        type: 'heatmap',
        data,
        label: {
          show: size <= 8,
          formatter: (p: { value: [number, number, number] }) => p.value[2].toFixed(digits),
        },
        emphasis: { itemStyle: { borderColor: '#1b1f24', borderWidth: 1 } },
      },
    ],
  };
}

/**
 * The paradox of diversity: each member per round (its mean disagreement with the others vs its
 * accuracy) and the ensemble per round (mean pairwise disagreement vs its accuracy).
 */
export function accuracyDiversityOption(
  points: { members: readonly ScatterPoint[]; ensemble: readonly ScatterPoint[] },
  ensembleName: string,
): EChartsCoreOption {
  const memberIndices = [...new Set(points.members.map((p) => p.member as number))].sort((a, b) => a - b);
  const tooltip = (p: { seriesName: string; value: [number, number, number] }) =>
    `${p.seriesName}, ${formatEpoch(p.value[2])}<br/>disagreement ${p.value[0].toFixed(3)} · accuracy ${pct(p.value[1])}`;
  return {
    grid: { left: 56, right: 20, top: 60, bottom: 40 },
    legend: { type: 'scroll', top: 0 },
    tooltip: { trigger: 'item', formatter: tooltip },
    xAxis: {
      type: 'value',
      name: 'mean pairwise disagreement',
      nameLocation: 'middle',
      nameGap: 26,
      scale: true,
    },
    yAxis: { type: 'value', name: 'test accuracy', scale: true, axisLabel: { formatter: pct } },
    series: [
      ...memberIndices.map((member, i) => ({
        name: `Member ${member}`,
        type: 'scatter',
        symbolSize: 7,
        itemStyle: { color: seriesColor(i), opacity: 0.8 },
        data: points.members
          .filter((p) => p.member === member)
          .map((p) => [p.disagreement, p.accuracy, p.round]),
      })),
      {
        name: ensembleName,
        type: 'scatter',
        symbol: 'diamond',
        symbolSize: 14,
        itemStyle: { color: '#1b1f24' },
        data: points.ensemble.map((p) => [p.disagreement, p.accuracy, p.round]),
      },
    ],
  };
}
