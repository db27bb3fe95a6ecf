/**
 * The layer chain of a Keras/TF.js topology JSON: unwraps the three file formats and orders the
 * layers of a Sequential model or of a functional model that is a simple chain. Reads JSON only;
 * nothing in a file is ever loaded as code (no custom objects, no lambdas).
 */
import { ModelError } from '../errors';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One entry of the file's `layers` list, with where it sits. */
export interface RawLayer {
  /** Index in the file's `config.layers`. */
  index: number;
  className: string;
  name: string;
  config: JsonObject;
}

export interface RawChain {
  modelName: string;
  /** The input shape the topology declares at its top level (Keras 3 `build_input_shape`), if any. */
  buildInputShape: Json | undefined;
  layers: RawLayer[];
  notes: string[];
}

export function fileError(file: string, message: string): ModelError {
  return new ModelError('invalid-config', `model file ${file}: ${message}`);
}

export function describeRaw(l: RawLayer): string {
  return `layers[${l.index}] '${l.name}' (${l.className})`;
}

/**
 * The topology inside `value`: Keras `model.to_json()` and TF.js `model.toJSON()` (an object, or
 * the JSON string tfjs returns by default) are the topology; a TF.js `model.json` holds it under
 * `modelTopology` (the tfjs converter's under `modelTopology.model_config`); its weights manifest is
 * read apart (file-weights.ts).
 */
function unwrap(file: string, value: Json): JsonObject {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v) as Json;
    } catch {
      throw fileError(file, 'holds a JSON string that is not itself a model topology in JSON');
    }
  }
  if (!isObject(v)) throw fileError(file, 'must hold a JSON object (a Keras or TF.js model topology)');
  if ('modelTopology' in v) {
    v = v['modelTopology'] ?? null;
    if (!isObject(v)) throw fileError(file, 'modelTopology must be a JSON object');
  }
  if (isObject(v['model_config'])) v = v['model_config'];
  return v;
}

function layerOf(file: string, entry: Json | undefined, index: number): RawLayer {
  if (!isObject(entry))
    throw fileError(file, `layers[${index}] must be an object with class_name and config`);
  const className = entry['class_name'];
  if (typeof className !== 'string') throw fileError(file, `layers[${index}] has no class_name`);
  const config = entry['config'] ?? {};
  if (!isObject(config)) throw fileError(file, `layers[${index}] (${className}): config must be an object`);
  const name = typeof config['name'] === 'string' ? config['name'] : entry['name'];
  return { index, className, name: typeof name === 'string' ? name : `layer_${index}`, config };
}

/** Names of the layers a functional layer's nodes read (Keras 2/TF.js lists, Keras 3 `keras_history`). */
function inboundNames(node: Json): string[] {
  if (Array.isArray(node)) {
    // Keras 2 / TF.js: a node is a list of [layerName, nodeIndex, tensorIndex, kwargs?].
    if (typeof node[0] === 'string') return [node[0]];
    return node.flatMap(inboundNames);
  }
  if (!isObject(node)) return [];
  const config = node['config'];
  if (node['class_name'] === '__keras_tensor__' && isObject(config)) {
    const history = config['keras_history'];
    return Array.isArray(history) && typeof history[0] === 'string' ? [history[0]] : [];
  }
  return [...inboundNames(node['args'] ?? null), ...inboundNames(node['kwargs'] ?? null)];
}

/** The layer names of `input_layers`/`output_layers`: `[[name, 0, 0], …]` or Keras 3's single `[name, 0, 0]`. */
function endpointNames(v: Json | undefined): string[] {
  if (!Array.isArray(v)) return [];
  if (typeof v[0] === 'string') return [v[0]];
  return v.flatMap((e) => (Array.isArray(e) && typeof e[0] === 'string' ? [e[0]] : []));
}

/** Orders a functional graph's layers from its input to its output; refuses anything but one chain. */
function chainOf(file: string, layers: RawLayer[], entries: Json[], config: JsonObject): RawLayer[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const inputs = endpointNames(config['input_layers']);
  const outputs = endpointNames(config['output_layers']);
  if (inputs.length !== 1 || outputs.length !== 1) {
    throw fileError(
      file,
      `a functional model with ${inputs.length} inputs and ${outputs.length} outputs: Chorus builds ` +
        'models with one input and one output only',
    );
  }
  const next = new Map<string, RawLayer[]>();
  for (const layer of layers) {
    const entry = entries[layer.index] as JsonObject;
    const nodes = entry['inbound_nodes'];
    const nodeList = Array.isArray(nodes) ? nodes : [];
    if (nodeList.length > 1) {
      throw fileError(
        file,
        `${describeRaw(layer)} is called ${nodeList.length} times: shared layers are not supported`,
      );
    }
    const from = nodeList.length === 1 ? inboundNames(nodeList[0] as Json) : [];
    if (from.length > 1) {
      throw fileError(
        file,
        `${describeRaw(layer)} takes ${from.length} inputs (${from.map((n) => `'${n}'`).join(', ')}): ` +
          'the graph branches; Chorus builds a functional model only when it is a simple chain',
      );
    }
    const source = from[0];
    if (source === undefined) continue;
    if (!byName.has(source))
      throw fileError(file, `${describeRaw(layer)} reads '${source}', which is not a layer of the file`);
    next.set(source, [...(next.get(source) ?? []), layer]);
  }
  for (const [source, readers] of next) {
    if (readers.length > 1) {
      throw fileError(
        file,
        `${describeRaw(byName.get(source) as RawLayer)} feeds ${readers.length} layers ` +
          `(${readers.map((r) => `'${r.name}'`).join(', ')}): the graph branches; Chorus builds a ` +
          'functional model only when it is a simple chain',
      );
    }
  }
  const chain: RawLayer[] = [];
  let at = byName.get(inputs[0] as string);
  while (at !== undefined && chain.length <= layers.length) {
    chain.push(at);
    at = next.get(at.name)?.[0];
  }
  const last = chain[chain.length - 1];
  if (last?.name !== outputs[0] || chain.length !== layers.length) {
    const unused = layers.filter((l) => !chain.includes(l)).map(describeRaw);
    throw fileError(
      file,
      `the chain from input '${inputs[0]}' does not end at output '${outputs[0]}' through every layer` +
        (unused.length > 0 ? ` (not on it: ${unused.join(', ')})` : ''),
    );
  }
  return chain;
}

/** The model's layers in order (InputLayer entries included) from a parsed file. */
export function readChain(file: string, value: Json): RawChain {
  const notes: string[] = [];
  const topology = unwrap(file, value);
  const className = topology['class_name'];
  const config = topology['config'];
  if (className !== 'Sequential' && className !== 'Functional' && className !== 'Model') {
    throw fileError(
      file,
      `the top-level class_name is ${JSON.stringify(className ?? null)}; Chorus reads Sequential models ` +
        'and functional ones (Functional, Model) that are a simple chain',
    );
  }
  // Keras before 2.2.3 wrote a Sequential's config as the bare list of layers.
  const entries = Array.isArray(config) ? config : isObject(config) ? config['layers'] : undefined;
  if (!Array.isArray(entries) || entries.length === 0)
    throw fileError(file, 'config.layers must be a non-empty list');
  const layers = entries.map((e, i) => layerOf(file, e, i));
  const cfg = isObject(config) ? config : {};
  const modelName = typeof cfg['name'] === 'string' ? cfg['name'] : 'model';
  const ordered = className === 'Sequential' ? layers : chainOf(file, layers, entries, cfg);
  return { modelName, buildInputShape: cfg['build_input_shape'], layers: ordered, notes };
}
