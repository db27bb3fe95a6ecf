import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from './prometheus-text';

describe('parsePrometheusText', () => {
  it('reads families, their types, help, labels and values (a histogram’s suffixed samples included)', () => {
    const text = [
      '# HELP chorus_workers_online Workers connected now, by tfjs backend.',
      '# TYPE chorus_workers_online gauge',
      'chorus_workers_online{backend="cpu"} 2',
      'chorus_workers_online{backend="wasm"} 1',
      '# HELP ack_seconds Time "to" answer \\\\ escaped.',
      '# TYPE ack_seconds histogram',
      'ack_seconds_bucket{le="0.1",event="metrics"} 3',
      'ack_seconds_bucket{le="+Inf",event="metrics"} 4',
      'ack_seconds_sum{event="metrics"} 0.25',
      'ack_seconds_count{event="metrics"} 4',
      '# TYPE odd counter',
      'odd_total{path="a\\"b,c"} 1e3 1700000000000',
      'no_family NaN',
      // prom-client writes an event-loop mean of NaN as `Nan`; Go's ParseFloat reads any case.
      'lag_seconds Nan',
      'big_seconds -inf',
      '',
    ].join('\n');
    const families = parsePrometheusText(text);
    expect(families.get('chorus_workers_online')).toEqual({
      name: 'chorus_workers_online',
      type: 'gauge',
      help: 'Workers connected now, by tfjs backend.',
      samples: [
        { name: 'chorus_workers_online', labels: { backend: 'cpu' }, value: 2 },
        { name: 'chorus_workers_online', labels: { backend: 'wasm' }, value: 1 },
      ],
    });
    const ack = families.get('ack_seconds')!;
    expect(ack.type).toBe('histogram');
    expect(ack.help).toBe('Time "to" answer \\ escaped.');
    expect(ack.samples.map((s) => [s.name, s.labels['le'] ?? null, s.value])).toEqual([
      ['ack_seconds_bucket', '0.1', 3],
      ['ack_seconds_bucket', '+Inf', 4],
      ['ack_seconds_sum', null, 0.25],
      ['ack_seconds_count', null, 4],
    ]);
    expect(families.get('odd')?.samples).toEqual([
      { name: 'odd_total', labels: { path: 'a"b,c' }, value: 1000 },
    ]);
    expect(families.get('no_family')?.type).toBe('untyped');
    expect(families.get('no_family')?.samples[0]?.value).toBeNaN();
    expect(families.get('lag_seconds')?.samples[0]?.value).toBeNaN();
    expect(families.get('big_seconds')?.samples[0]?.value).toBe(-Infinity);
  });

  it('names the line that does not parse', () => {
    expect(() => parsePrometheusText('# TYPE a gauge\na 1\na{x="1"} one')).toThrow(
      /metrics line 3: "one" is not a number/,
    );
    expect(() => parsePrometheusText('a{x=1} 2')).toThrow(/metrics line 1: labels do not parse/);
    expect(() => parsePrometheusText('# TYPE a sometimes')).toThrow(/unknown type "sometimes"/);
  });
});
