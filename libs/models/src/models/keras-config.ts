/**
 * Reading one Keras layer config: typed access whose every refusal names the file and the entry,
 * and Keras'/TF.js' initializer forms mapped to the ones Chorus seeds.
 */
import { FILE_ACTIVATIONS, type FileActivation, type FileInitializer } from '@chorus/protocol';
import { describeRaw, fileError, isObject, type Json, type JsonObject, type RawLayer } from './keras-graph';

export type Reader = ReturnType<typeof readerOf>;

/** Typed access to one layer's config, every refusal naming the file and the entry. */
export function readerOf(file: string, layer: RawLayer) {
  const c = layer.config;
  const fail = (message: string) => fileError(file, `${describeRaw(layer)}: ${message}`);
  const shown = (key: string) => JSON.stringify(c[key] ?? null);
  return {
    fail,
    has: (key: string) => c[key] !== undefined && c[key] !== null,
    int(key: string, fallback?: number): number {
      const v = c[key] ?? fallback ?? null;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
        throw fail(`${key} must be a whole number ≥ 1, got ${shown(key)}`);
      return v;
    },
    num(key: string, fallback: number): number {
      const v = c[key] ?? fallback;
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw fail(`${key} must be a number, got ${shown(key)}`);
      return v;
    },
    /** An int or a square pair [n, n] (Keras writes kernel_size, pool_size and strides as pairs). */
    square(key: string, fallback?: number): number {
      const v = c[key] ?? fallback ?? null;
      const pair = Array.isArray(v) ? v : [v, v];
      const [a, b] = pair;
      if (pair.length !== 2 || typeof a !== 'number' || a !== b || !Number.isInteger(a) || a < 1) {
        throw fail(`${key} must be one whole number or a square pair [n, n], got ${shown(key)}`);
      }
      return a;
    },
    /** The key is absent, null, or the value Chorus builds. */
    only(key: string, accepted: Json[], why: string): void {
      const v = c[key];
      if (v === undefined || v === null) return;
      if (!accepted.some((a) => JSON.stringify(a) === JSON.stringify(v)))
        throw fail(`${key} ${shown(key)} is not supported (${why})`);
    },
    /** An initializer that is absent or `expected` (Keras' `zeros`, `Zeros`, or `{ class_name: 'Zeros', … }`). */
    initIs(key: string, expected: 'Zeros' | 'Ones', why: string): void {
      const v = c[key];
      if (v === undefined || v === null) return;
      const cls = typeof v === 'string' ? v : isObject(v) ? v['class_name'] : null;
      if (typeof cls !== 'string' || cls.toLowerCase() !== expected.toLowerCase()) {
        throw fail(`${key} ${typeof cls === 'string' ? cls : shown(key)} is not supported (${why})`);
      }
    },
    none(keys: string[]): void {
      for (const key of keys) {
        if (c[key] !== undefined && c[key] !== null)
          throw fail(`${key} is not supported (Chorus builds it without one)`);
      }
    },
    activation(key = 'activation'): FileActivation {
      const v = c[key] ?? 'linear';
      if (typeof v !== 'string' || !(FILE_ACTIVATIONS as readonly string[]).includes(v)) {
        throw fail(`activation ${shown(key)} is not supported (${FILE_ACTIVATIONS.join(', ')})`);
      }
      return v as FileActivation;
    },
    padding(): 'same' | 'valid' {
      const v = c['padding'] ?? 'valid';
      if (v !== 'same' && v !== 'valid')
        throw fail(`padding ${shown('padding')} is not supported (same, valid)`);
      return v;
    },
    config: c,
  };
}

/** Keras' initializer names and TF.js' VarianceScaling forms of the initializers Chorus seeds. */
export function initializerOf(
  r: Reader,
  key: string,
  notes: string[],
  file: string,
  layer: RawLayer,
): FileInitializer {
  const v = r.config[key] ?? 'glorot_uniform';
  const className = typeof v === 'string' ? v : isObject(v) ? v['class_name'] : null;
  const cfg: JsonObject = isObject(v) && isObject(v['config']) ? v['config'] : {};
  if (typeof cfg['seed'] === 'number') {
    notes.push(`${file}: ${describeRaw(layer)}: the ${key} seed is replaced by each member's seed`);
  }
  const named: Record<string, FileInitializer> = {
    GlorotUniform: 'glorotUniform',
    glorot_uniform: 'glorotUniform',
    GlorotNormal: 'glorotNormal',
    glorot_normal: 'glorotNormal',
    HeNormal: 'heNormal',
    he_normal: 'heNormal',
    HeUniform: 'heUniform',
    he_uniform: 'heUniform',
    LecunNormal: 'lecunNormal',
    lecun_normal: 'lecunNormal',
    LecunUniform: 'lecunUniform',
    lecun_uniform: 'lecunUniform',
  };
  if (typeof className === 'string' && named[className] !== undefined) return named[className];
  if (className === 'VarianceScaling') {
    const { scale, mode, distribution } = cfg;
    const normal = distribution === 'normal' || distribution === 'truncated_normal';
    const form = `${scale}/${mode}/${normal ? 'normal' : distribution}`;
    const forms: Record<string, FileInitializer> = {
      '1/fan_avg/uniform': 'glorotUniform',
      '1/fan_avg/normal': 'glorotNormal',
      '2/fan_in/normal': 'heNormal',
      '2/fan_in/uniform': 'heUniform',
      '1/fan_in/normal': 'lecunNormal',
      '1/fan_in/uniform': 'lecunUniform',
    };
    if (forms[form] !== undefined) return forms[form];
  }
  throw r.fail(
    `${key} ${JSON.stringify(v)} is not supported (glorot_uniform, glorot_normal, he_normal, he_uniform, lecun_normal, lecun_uniform)`,
  );
}
