import { VOTING_STRATEGIES } from '@chorus/ensemble';
import { RunConfigSchema } from '@chorus/protocol';
import { FINAL_METRICS, LOWER_IS_BETTER, type FinalMetric, type FinalTable } from './run-final-table';

/**
 * The Compare page's pure parts: which runs the query names, how their configs differ, and the
 * final table across runs with the best value of each (strategy, metric) marked.
 */

export const MIN_COMPARE = 2;
export const MAX_COMPARE = 4;
const RUN_ID = /^[\w-]{1,64}$/;

export type CompareQueryProblem = 'none-picked' | 'not-an-id' | 'too-few' | 'too-many';
export type CompareQuery =
  { ok: true; ids: string[] } | { ok: false; ids: string[]; problem: CompareQueryProblem; message: string };

/**
 * `?runs=a,b` (the Runs page's link) and/or `?run=a&run=b` (the picker form, which works without
 * JavaScript): the distinct ids in order, two to four of them.
 */
export function parseCompareQuery(params: {
  runs?: string | string[] | undefined;
  run?: string | string[] | undefined;
}): CompareQuery {
  const raw = [params.runs, params.run]
    .flatMap((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  const ids = [...new Set(raw)];
  const bad = ids.filter((id) => !RUN_ID.test(id));
  const good = ids.filter((id) => RUN_ID.test(id));
  if (raw.length === 0)
    return { ok: false, ids: [], problem: 'none-picked', message: 'Pick two to four runs to compare.' };
  if (bad.length > 0)
    return {
      ok: false,
      ids: good,
      problem: 'not-an-id',
      message: `Not a run id: ${bad.map((b) => JSON.stringify(b)).join(', ')}.`,
    };
  if (good.length < MIN_COMPARE)
    return {
      ok: false,
      ids: good,
      problem: 'too-few',
      message:
        raw.length > good.length
          ? 'The same run was picked twice: pick two to four different runs.'
          : 'Pick at least two runs to compare.',
    };
  if (good.length > MAX_COMPARE)
    return {
      ok: false,
      ids: good.slice(0, MAX_COMPARE),
      problem: 'too-many',
      message: `At most ${MAX_COMPARE} runs can be compared at once.`,
    };
  return { ok: true, ids: good };
}

/** A config with the schema's defaults filled in (so `{}` and `{ members: 5 }` compare equal), or the raw object. */
export function normaliseConfig(config: unknown): Record<string, unknown> {
  const parsed = RunConfigSchema.safeParse(config);
  if (parsed.success) return parsed.data as Record<string, unknown>;
  return config !== null && typeof config === 'object' && !Array.isArray(config)
    ? (config as Record<string, unknown>)
    : {};
}

/** JSON with object keys sorted, so key order never makes two values differ. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export interface ConfigDiffRow {
  key: string;
  /** One per run: the value as shown ('—' when not set). */
  values: string[];
}

export interface ConfigDiff {
  differing: ConfigDiffRow[];
  /** Keys every run sets to the same value (with that value). */
  same: Array<{ key: string; value: string }>;
}

export function displayValue(value: unknown): string {
  if (value === undefined || value === null) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

const SCHEMA_KEYS = Object.keys(RunConfigSchema.shape);
const keyRank = (key: string) => {
  const i = SCHEMA_KEYS.indexOf(key);
  return i < 0 ? SCHEMA_KEYS.length : i;
};

/** The config keys whose values differ between the runs (schema order), and those that do not. */
export function configDiff(configs: ReadonlyArray<Record<string, unknown>>): ConfigDiff {
  const keys = [...new Set(configs.flatMap((c) => Object.keys(c)))].sort(
    (a, b) => keyRank(a) - keyRank(b) || a.localeCompare(b),
  );
  const diff: ConfigDiff = { differing: [], same: [] };
  for (const key of keys) {
    const values = configs.map((c) => c[key]);
    const distinct = new Set(values.map(canonicalJson));
    if (distinct.size > 1) diff.differing.push({ key, values: values.map(displayValue) });
    else diff.same.push({ key, value: displayValue(values[0]) });
  }
  return diff;
}

/**
 * Which values are the best (the largest, or the smallest when lower is better); ties are all
 * best. Nothing is marked when fewer than two values are there to compare.
 */
export function bestFlags(values: ReadonlyArray<number | undefined>, lowerIsBetter: boolean): boolean[] {
  const present = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (present.length < 2) return values.map(() => false);
  const best = lowerIsBetter ? Math.min(...present) : Math.max(...present);
  return values.map((v) => v === best);
}

export interface CompareCell {
  value: number | undefined;
  best: boolean;
}

export interface CompareTableRow {
  strategy: string;
  runId: string;
  cells: Record<FinalMetric, CompareCell>;
}

export interface CompareTableGroup {
  strategy: string;
  rows: CompareTableRow[];
}

/**
 * The final tables of several runs side by side: for each voting strategy one row per run, and in
 * each (strategy, metric) the best value across the runs marked.
 */
export function compareTable(
  runs: ReadonlyArray<{ id: string; table: FinalTable | null }>,
): CompareTableGroup[] {
  const strategiesOf = (t: FinalTable | null) =>
    (t?.rows ?? []).filter((r) => r.kind === 'strategy').map((r) => r.key);
  const present = new Set(runs.flatMap((r) => strategiesOf(r.table)));
  const strategies = [
    ...VOTING_STRATEGIES.filter((s) => present.has(s)),
    ...[...present].filter((s) => !(VOTING_STRATEGIES as readonly string[]).includes(s)).sort(),
  ];
  return strategies.map((strategy) => {
    const values = runs.map(
      (r) => r.table?.rows.find((row) => row.kind === 'strategy' && row.key === strategy)?.values ?? {},
    );
    const flags = Object.fromEntries(
      FINAL_METRICS.map((m) => [
        m,
        bestFlags(
          values.map((v) => v[m]),
          LOWER_IS_BETTER[m],
        ),
      ]),
    ) as Record<FinalMetric, boolean[]>;
    return {
      strategy,
      rows: runs.map((run, i) => ({
        strategy,
        runId: run.id,
        cells: Object.fromEntries(
          FINAL_METRICS.map((m) => [m, { value: values[i]?.[m], best: flags[m][i] ?? false }]),
        ) as Record<FinalMetric, CompareCell>,
      })),
    };
  });
}

/** Best and mean member test accuracy of a final table (its member rows), or null without members. */
export function memberSummary(
  table: FinalTable | null,
): { best: number; mean: number; count: number } | null {
  const accuracies = (table?.rows ?? [])
    .filter((r) => r.kind === 'member')
    .map((r) => r.values.accuracy)
    .filter((a): a is number => a !== undefined && Number.isFinite(a));
  if (accuracies.length === 0) return null;
  return {
    best: Math.max(...accuracies),
    mean: accuracies.reduce((s, a) => s + a, 0) / accuracies.length,
    count: accuracies.length,
  };
}

/** A, B, C, D: short labels that tell same-named runs apart in legends and tables. */
export const runLetter = (i: number) => String.fromCharCode(65 + i);
