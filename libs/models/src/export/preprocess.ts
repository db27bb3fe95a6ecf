import { ChorusError, type Preprocess } from '@chorus/protocol';

/**
 * Turns raw input rows (values as the dataset's own files hold them: IDX bytes 0–255, digits 0–16)
 * into what the members were trained on, as the manifest's `preprocess` says (its doc comment in
 * libs/protocol ensemble-manifest.ts): x = (raw / divisor − mean[ch]) / std[ch], in float64, stored
 * as float32 — bit for bit what loading the dataset did. The one implementation: `chorus predict`,
 * predictWithEnsemble and `chorus serve` all call it. A value outside `rawRange` (or not a number)
 * is refused with its row and column, since a wrongly scaled input would be classified silently.
 */
export function applyPreprocess(
  preprocess: Preprocess,
  raw: ArrayLike<number>,
  featureSize: number,
): Float32Array {
  if (!(Number.isInteger(featureSize) && featureSize > 0) || raw.length % featureSize !== 0) {
    throw new ChorusError(
      'invalid-input',
      `inputs have ${raw.length} values, not a whole number of rows of ${featureSize} features`,
    );
  }
  const { divisor, normalize, rawRange } = preprocess;
  const [lo, hi] = rawRange;
  const channels = normalize === null ? 1 : normalize.mean.length;
  const out = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i] as number;
    if (!(v >= lo && v <= hi)) {
      const row = Math.floor(i / featureSize);
      throw new ChorusError(
        'invalid-input',
        `row ${row}, value ${(i % featureSize) + 1}: ${v} is outside the raw range [${lo}, ${hi}] this ensemble was trained on`,
      );
    }
    let x = v / divisor;
    if (normalize !== null) {
      // channels last: the channel of value i is i mod channels (one entry: all channels alike)
      const ch = channels === 1 ? 0 : i % channels;
      x = (x - (normalize.mean[ch] as number)) / (normalize.std[ch] as number);
    }
    out[i] = x;
  }
  return out;
}
