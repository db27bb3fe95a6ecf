/**
 * A member built from the run's model file (`ModelFile`, libs/protocol model-file.ts): the file's
 * layers as Chorus layers, so seeding, dropout masks, checkpoints and the dense fast path work as
 * for the built-in models. Every initializer and Dropout is seeded from (member seed, layer name);
 * the output Dense becomes linear + a separate softmax layer, as in the built-ins. Overrides:
 * `optimizer`, `learningRate` (default Adam, 0.001) and `dropout` (replaces the rate of every
 * Dropout layer of the file; 0 removes them) apply; `width` and `activation` are refused.
 */
import { summarizeModelFile, ModelFileFitError, type ModelFile } from '@chorus/protocol';
import type { ModelConfig } from '../config';
import { resolveHyper } from '../config';
import { ModelError } from '../errors';
import { deriveSeed } from '../seeds';
import type { LayerSpec, ModelSpec } from './spec';

export const MODEL_FILE_DEFAULTS = { activation: 'relu', optimizer: 'adam', learningRate: 0.001 } as const;

/** A layer name not in `taken` (the file's names are its own; Chorus' additions must not clash). */
function freshName(base: string, taken: Set<string>): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

export function modelFileSpec(cfg: ModelConfig & { modelFile: ModelFile }): ModelSpec {
  const file = cfg.modelFile;
  for (const key of ['width', 'activation'] as const) {
    if (cfg[key] !== undefined) {
      throw new ModelError(
        'invalid-config',
        `the ${key} override does not apply to model file ${file.fileName}: its layers are built as the file gives them`,
      );
    }
  }
  const hyper = resolveHyper({ ...cfg, name: 'mlp' }, MODEL_FILE_DEFAULTS);
  let summary;
  try {
    summary = summarizeModelFile(file, cfg.inputShape, cfg.numClasses);
  } catch (err) {
    if (err instanceof ModelFileFitError) throw new ModelError('incompatible-input', err.message);
    throw err;
  }
  const taken = new Set(file.layers.map((l) => l.name));
  const seed = (name: string) => deriveSeed(cfg.seed, name);
  const layers: LayerSpec[] = [];
  if (summary.flattensInput) layers.push({ kind: 'flatten', name: freshName('input_flatten', taken) });
  const softmax = (): LayerSpec => ({ kind: 'softmax', name: freshName('softmax', taken) });
  file.layers.forEach((layer, i) => {
    const last = i === file.layers.length - 1;
    switch (layer.kind) {
      case 'dense': {
        const logits = layer.activation === 'softmax' || (last && layer.activation === 'linear');
        layers.push({
          kind: 'dense',
          name: layer.name,
          units: layer.units,
          activation: logits ? 'linear' : (layer.activation as Exclude<typeof layer.activation, 'softmax'>),
          init: layer.init,
          seed: seed(layer.name),
        });
        if (last && logits) layers.push(softmax());
        break;
      }
      case 'conv2d':
        layers.push({
          ...layer,
          activation: layer.activation as Exclude<typeof layer.activation, 'softmax'>,
          seed: seed(layer.name),
        });
        break;
      case 'dropout': {
        const rate = hyper.dropout ?? layer.rate;
        if (rate > 0) layers.push({ kind: 'dropout', name: layer.name, rate, seed: seed(layer.name) });
        break;
      }
      case 'activation':
        layers.push(
          layer.activation === 'softmax'
            ? { kind: 'softmax', name: layer.name }
            : { kind: 'activation', name: layer.name, activation: layer.activation },
        );
        break;
      default:
        layers.push({ ...layer });
    }
  });
  return {
    name: file.name.length > 0 && /^[A-Za-z0-9][-A-Za-z0-9._]*$/.test(file.name) ? file.name : 'model_file',
    inputShape: [...cfg.inputShape],
    layers,
    optimizer: hyper.optimizer,
    learningRate: hyper.learningRate,
  };
}
