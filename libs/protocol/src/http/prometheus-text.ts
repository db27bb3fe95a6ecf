import { ChorusError } from '../errors';

/**
 * A reader of Prometheus' text exposition format (version 0.0.4), what the coordinator's
 * `GET /metrics` and a worker's `--metrics-port` serve: families with their TYPE and HELP, and
 * their samples with labels and values. Used to check those endpoints and by tools that read a
 * scrape; a line that does not parse is an error naming its number.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface MetricSample {
  /** The sample's own name: the family's, or with `_bucket`, `_sum`, `_count`, `_total`, `_created`. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: MetricSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+-?\\d+)?$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created'];

/** The families of a scrape, by name. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const family = (name: string): MetricFamily => {
    let f = families.get(name);
    if (f === undefined) {
      f = { name, type: 'untyped', help: '', samples: [] };
      families.set(name, f);
    }
    return f;
  };
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const fail = (why: string): never => {
      throw new ChorusError('invalid-input', `metrics line ${i + 1}: ${why}: ${line.slice(0, 200)}`);
    };
    if (line === '') return;
    if (line.startsWith('#')) {
      const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
      if (!meta) return; // a comment
      const [, kind, name = '', rest = ''] = meta;
      if (kind === 'HELP') family(name).help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      else {
        if (!TYPES.has(rest as MetricType)) fail(`unknown type "${rest}"`);
        family(name).type = rest as MetricType;
      }
      return;
    }
    const match = SAMPLE.exec(line) ?? fail('not a sample');
    const [, name = '', labelText = '', valueText = ''] = match;
    const value = parseValue(valueText) ?? fail(`"${valueText}" is not a number`);
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < labelText.length) {
      const label = LABEL.exec(labelText) ?? fail('labels do not parse');
      labels[label[1] as string] = (label[2] as string).replace(/\\(.)/g, (_m, c: string) =>
        c === 'n' ? '\n' : c,
      );
    }
    family(familyOf(name, families)).samples.push({ name, labels, value });
  });
  return families;
}

/** The family a sample belongs to: its own name, or that name less a histogram/summary/counter suffix. */
function familyOf(sample: string, families: Map<string, MetricFamily>): string {
  if (families.has(sample)) return sample;
  for (const suffix of SUFFIXES) {
    if (sample.endsWith(suffix) && families.has(sample.slice(0, -suffix.length))) {
      return sample.slice(0, -suffix.length);
    }
  }
  return sample;
}

/** A sample's value: a float, or (as Go's ParseFloat reads them, any case) Inf, +Inf, -Inf, NaN; prom-client writes `Nan`. */
function parseValue(text: string): number | undefined {
  const special = text.toLowerCase();
  if (special === '+inf' || special === 'inf') return Infinity;
  if (special === '-inf') return -Infinity;
  if (special === 'nan') return NaN;
  const value = Number(text);
  return text !== '' && !Number.isNaN(value) ? value : undefined;
}
