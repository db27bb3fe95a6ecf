/**
 * The paradox of diversity on MNIST `mlp`: for each sharding strategy × member count, one whole
 * `chorus train` run in this process (apps/cli's trainEnsembleLocally: the same split, shard plan,
 * member seeds, training and evaluation as the CLI), then the members' mean test accuracy, their
 * disagreement (libs/ensemble's diversity measures, test split), every ensemble strategy's test
 * accuracy and the soft vote's gain over the mean member. Less data per member (round-robin,
 * disjoint) makes members that disagree more but are weaker; whether the vote's larger gain makes
 * up for it is what the table and the figure show.
 *
 *   npm run bench:paradox [-- --epochs 5] [-- --train-limit N] [-- --members 3,5,10]
 *     [-- --sharding full,bootstrap,round-robin,disjoint] [-- --seed 1] [-- --svg docs/paradox.svg]
 *     [-- --markdown FILE] [-- --backend auto]
 *
 * Prints one line per run as it finishes, then a table; writes the figure (SVG, drawn by ECharts'
 * server-side renderer) to --svg and, with --markdown, the table as Markdown. Nothing is asserted.
 * Every run uses the same seed, epochs and batch size, so only the sharding and the member count
 * differ. On a shared machine the times are upper bounds.
 */
import { writeFileSync } from 'node:fs';
import * as echarts from 'echarts';
import {
  parseRunConfig,
  SHARDING_STRATEGIES,
  type RunResult,
  type ShardingStrategyName,
} from '@chorus/protocol';
// bench/ belongs to the root project (tag type:app), which may use every project; apps/cli exports
// no library entry, so its local trainer (the code behind `chorus train`) is imported by path.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { trainEnsembleLocally } from '../apps/cli/src/local-train';
import { fmt, loadLine } from './support/stats';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};

function positiveInts(name: string, text: string): number[] {
  const values = text.split(',').map((v) => Number(v.trim()));
  for (const v of values) {
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`--${name}: ${JSON.stringify(text)} is not a list of positive integers`);
  }
  return values;
}

function shardings(text: string): ShardingStrategyName[] {
  const names = text.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!(SHARDING_STRATEGIES as readonly string[]).includes(name)) {
      throw new Error(
        `--sharding: unknown strategy ${JSON.stringify(name)} (known: ${SHARDING_STRATEGIES.join(', ')})`,
      );
    }
  }
  return names as ShardingStrategyName[];
}

const epochs = positiveInts('epochs', arg('epochs', '5'))[0] as number;
const trainLimitText = arg('train-limit', '');
const trainLimit = trainLimitText === '' ? undefined : positiveInts('train-limit', trainLimitText)[0];
const memberCounts = positiveInts('members', arg('members', '3,5,10'));
const strategies = shardings(arg('sharding', 'full,bootstrap,round-robin,disjoint'));
const seed = Number(arg('seed', '1'));
const svgPath = arg('svg', 'docs/paradox.svg');
const markdownPath = arg('markdown', '');
const backend = arg('backend', 'auto') as Parameters<typeof trainEnsembleLocally>[1]['backend'];

interface Row {
  sharding: ShardingStrategyName;
  members: number;
  /** Training samples in the run (after the validation hold-out). */
  train: number;
  meanMember: number;
  bestMember: number;
  disagreement: number;
  doubleFault: number;
  ambiguity: number;
  ensemble: RunResult['ensemble'];
  /** Soft vote − mean member (test accuracy). */
  gain: number;
  seconds: number;
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

async function runOne(sharding: ShardingStrategyName, members: number): Promise<Row> {
  const cfg = parseRunConfig({
    dataset: 'mnist',
    model: 'mlp',
    members,
    sharding,
    epochs,
    seed,
    ...(trainLimit === undefined ? {} : { trainLimit }),
  });
  let train = 0;
  const { result, seconds } = await trainEnsembleLocally(cfg, {
    backend,
    onStart: ({ counts }) => {
      train = counts.train;
    },
  });
  const tests = result.members.map((m) => m.testAccuracy);
  return {
    sharding,
    members,
    train,
    meanMember: mean(tests),
    bestMember: Math.max(...tests),
    disagreement: result.diversity.disagreement,
    doubleFault: result.diversity.doubleFault,
    ambiguity: result.diversity.ambiguity ?? Number.NaN,
    ensemble: result.ensemble,
    gain: result.ensemble.soft.accuracy - mean(tests),
    seconds,
  };
}

const pct = (v: number | undefined): string => (v === undefined ? '-' : (100 * v).toFixed(2));
const pp = (v: number): string => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(2)}`;

/** Each member's share of the training set per epoch under a strategy (bootstrap: distinct rows ≈ 63 %). */
function shareLabel(sharding: ShardingStrategyName, members: number): string {
  if (sharding === 'full') return 'all';
  if (sharding === 'bootstrap') return 'resample';
  return `1/${members}`;
}

const COLUMNS = [
  'sharding',
  'M',
  'data/member',
  'mean member',
  'best member',
  'disagreement',
  'double fault',
  'hard',
  'soft',
  'geometric',
  'stacking',
  'optimal-weights',
  'selection',
  'soft − mean member',
  'time',
] as const;

function cells(r: Row): string[] {
  return [
    r.sharding,
    String(r.members),
    shareLabel(r.sharding, r.members),
    pct(r.meanMember),
    pct(r.bestMember),
    fmt(r.disagreement, 4),
    fmt(r.doubleFault, 4),
    pct(r.ensemble.hard.accuracy),
    pct(r.ensemble.soft.accuracy),
    pct(r.ensemble.geometric.accuracy),
    pct(r.ensemble.stacking?.accuracy),
    pct(r.ensemble['optimal-weights']?.accuracy),
    pct(r.ensemble.selection?.accuracy),
    `${pp(r.gain)} pp`,
    `${r.seconds.toFixed(0)} s`,
  ];
}

function markdown(rows: readonly Row[]): string {
  const lines = [
    `| ${COLUMNS.join(' | ')} |`,
    `| ${COLUMNS.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${cells(r).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

function plainTable(rows: readonly Row[]): string {
  const body = rows.map(cells);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...body.map((b) => (b[i] as string).length)));
  const line = (values: readonly string[]) =>
    values.map((v, i) => v.padStart(widths[i] as number)).join('  ');
  return [line(COLUMNS), ...body.map(line)].join('\n');
}

/** Four panels over the member count, one line per sharding strategy. */
function figure(rows: readonly Row[]): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 960, height: 680 });
  const panels = [
    { title: 'mean member test accuracy (%)', value: (r: Row) => 100 * r.meanMember },
    { title: 'disagreement (test, pairwise mean)', value: (r: Row) => r.disagreement },
    { title: 'soft-vote gain over the mean member (pp)', value: (r: Row) => 100 * r.gain },
    { title: 'soft-vote test accuracy (%)', value: (r: Row) => 100 * r.ensemble.soft.accuracy },
  ];
  const left = ['7%', '57%'];
  const top = ['12%', '58%'];
  const grids = panels.map((_, i) => ({
    left: left[i % 2],
    top: top[Math.floor(i / 2)],
    width: '38%',
    height: '30%',
    containLabel: true,
  }));
  const counts = [...new Set(rows.map((r) => r.members))].sort((a, b) => a - b);
  const used = strategies.filter((s) => rows.some((r) => r.sharding === s));
  chart.setOption({
    animation: false,
    color: ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'],
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: 'sans-serif' },
    title: [
      {
        text: `Paradox of diversity: MNIST mlp, ${epochs} epoch${epochs === 1 ? '' : 's'}, seed ${seed}${trainLimit ? `, ${trainLimit} training samples` : ''}`,
        left: 'center',
        top: 4,
        textStyle: { fontSize: 15 },
      },
      ...panels.map((p, i) => ({
        text: p.title,
        left: `${i % 2 === 0 ? 7 : 57}%`,
        top: `${i < 2 ? 7 : 53}%`,
        textStyle: { fontSize: 12, fontWeight: 'normal' as const },
      })),
    ],
    legend: { bottom: 4, data: used },
    grid: grids,
    xAxis: panels.map((_, i) => ({
      type: 'category' as const,
      gridIndex: i,
      name: 'members',
      nameLocation: 'middle' as const,
      nameGap: 24,
      data: counts.map(String),
    })),
    yAxis: panels.map((_, i) => ({ type: 'value' as const, gridIndex: i, scale: true })),
    series: panels.flatMap((p, i) =>
      used.map((sharding) => ({
        name: sharding,
        type: 'line' as const,
        xAxisIndex: i,
        yAxisIndex: i,
        symbolSize: 7,
        data: counts.map((m) => {
          const row = rows.find((r) => r.sharding === sharding && r.members === m);
          return row ? Number(p.value(row).toFixed(4)) : null;
        }),
      })),
    ),
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

const rows: Row[] = [];
const started = performance.now();
console.log(
  `MNIST mlp, ${epochs} epoch${epochs === 1 ? '' : 's'}, batch 64, seed ${seed}, ${trainLimit ?? 'all'} training samples; ` +
    `sharding ${strategies.join(', ')} × members ${memberCounts.join(', ')}; load ${loadLine()}`,
);
for (const sharding of strategies) {
  for (const members of memberCounts) {
    const row = await runOne(sharding, members);
    rows.push(row);
    console.log(
      `${sharding} × ${members}: mean member ${pct(row.meanMember)} %, disagreement ${fmt(row.disagreement, 4)}, ` +
        `soft ${pct(row.ensemble.soft.accuracy)} % (${pp(row.gain)} pp), ${row.seconds.toFixed(1)} s; load ${loadLine()}`,
    );
  }
}
const total = (performance.now() - started) / 1000;
console.log(`\n${plainTable(rows)}\n`);
console.log(markdown(rows));
console.log(`${rows.length} runs (${rows[0]?.train ?? 0} training samples each) in ${total.toFixed(0)} s`);
writeFileSync(svgPath, figure(rows));
console.log(`figure: ${svgPath}`);
if (markdownPath !== '') {
  writeFileSync(markdownPath, markdown(rows));
  console.log(`table: ${markdownPath}`);
}
