import { RunConfigSchema, type RunConfig, type RunConfigInput } from '@chorus/protocol';

/**
 * The New run form, generated from libs/protocol's RunConfigSchema: one field per schema key,
 * with its kind, options, bounds and default read from the schema, and the pure mapping between
 * the form's text values and a run config (and between zod issues and per-field errors).
 */

export type FieldName = keyof RunConfigInput & keyof RunConfig;
/** Every field as the text its input holds ('' = not given: the schema's default applies). */
export type FormState = Record<FieldName, string>;
/** Messages per field; `_form` holds those that belong to no field. */
export type FieldErrors = Partial<Record<FieldName | '_form', string[]>>;

export type FieldKind = 'text' | 'int' | 'number' | 'select' | 'json';

export interface FieldSpec {
  name: FieldName;
  label: string;
  help: string;
  kind: FieldKind;
  /** Enum values (select fields). */
  options?: readonly string[];
  /** Not required: the field may stay empty (no default, or the model's own). */
  optional: boolean;
  min?: number;
  max?: number;
  /** The schema's default, as the form shows it. */
  defaultText: string;
  /** Advanced settings are shown in a collapsed section. */
  advanced: boolean;
}

const TEXT: Record<FieldName, { label: string; help: string; advanced?: boolean }> = {
  name: { label: 'Name', help: 'Shown in the runs list; default "<members> × <model> on <dataset>".' },
  dataset: {
    label: 'Dataset',
    help: 'Must be available on the coordinator (and it sends it to the workers).',
  },
  datasetPath: {
    label: 'Dataset path',
    help:
      'A path on the coordinator, under its dataset roots: a built-in dataset kept elsewhere, or a csv file / npy directory or .npz / images folder of class folders. ' +
      'The browser cannot upload files: to train on a file of your machine, run `chorus run --dataset csv --dataset-path FILE` there (it uploads it).',
  },
  datasetOptions: {
    label: 'Dataset options (JSON)',
    help:
      'csv / npy / images only: {"labelColumn": "species" or 0, "testPath": "/on/the/coordinator/test.csv" or "testFraction": 0.2, "normalize": "standard" | "minmax" | "none"}; ' +
      'images: {"imageSize": [height, width], "channels": 1 | 3, "testFraction": 0.2}; ' +
      'empty: the defaults (last column, 0.2, standard for csv, none for npy; for images the size all images share, 1 channel when all are grayscale else 3).',
  },
  datasetBundle: {
    label: 'Uploaded dataset bundle (sha256)',
    help: 'csv / npy / images: a bundle already uploaded to the coordinator (chorus run prints it), instead of a dataset path.',
    advanced: true,
  },
  model: { label: 'Model', help: 'Seed architecture every member is built from.' },
  modelFile: {
    label: 'Model file (JSON)',
    help: 'Your own model, as `chorus run --model-file` stores it (README "Your own model"); it replaces Model. Empty: none.',
    advanced: true,
  },
  members: { label: 'Members', help: 'Ensemble members, each trained by one worker slot.' },
  sharding: {
    label: 'Sharding',
    help: 'How mini-batches are shared: round-robin, disjoint shards, bootstrap samples, or the full data for everyone.',
  },
  epochs: { label: 'Epochs', help: 'Passes over each member’s data; one evaluation round per epoch.' },
  batchSize: { label: 'Batch size', help: 'Samples per mini-batch.' },
  seed: { label: 'Seed', help: 'Run seed: data split, shard plan and member seeds.' },
  trainLimit: { label: 'Train limit', help: 'Use at most this many training samples (empty: all).' },
  validationFraction: {
    label: 'Validation fraction',
    help: 'Share of the training data held out for validation (weights of the weighted strategies).',
  },
  learningRate: { label: 'Learning rate', help: 'Empty: the model’s own.' },
  optimizer: { label: 'Optimizer', help: 'Empty: the model’s own.' },
  memberOverrides: {
    label: 'Per-member overrides (JSON)',
    help: 'An array such as [{"member": 0, "dropout": 0.5, "learningRate": 0.01}]; keys: member, seed, activation, dropout, width (units of the model’s widest hidden layer), optimizer, learningRate.',
    advanced: true,
  },
};

interface SchemaNode {
  def: { type: string; innerType?: SchemaNode; defaultValue?: unknown };
  options?: readonly string[];
  minValue?: number | null;
  maxValue?: number | null;
  isInt?: boolean;
  description?: string;
}

function unwrap(node: SchemaNode): { inner: SchemaNode; optional: boolean; defaultValue: unknown } {
  let inner = node;
  let optional = false;
  let defaultValue: unknown = undefined;
  while (inner.def.innerType && (inner.def.type === 'optional' || inner.def.type === 'default')) {
    if (inner.def.type === 'optional') optional = true;
    if (inner.def.type === 'default') defaultValue = inner.def.defaultValue;
    inner = inner.def.innerType;
  }
  return { inner, optional, defaultValue };
}

/** A bound the schema states (an int's implicit ±MAX_SAFE_INTEGER is no bound worth showing). */
const finiteOrUndefined = (value: number | null | undefined) =>
  value !== null && value !== undefined && Number.isFinite(value) && Math.abs(value) < Number.MAX_SAFE_INTEGER
    ? value
    : undefined;

function specOf(name: FieldName): FieldSpec {
  const node = RunConfigSchema.shape[name] as unknown as SchemaNode;
  const { inner, optional, defaultValue } = unwrap(node);
  const text = TEXT[name];
  const kind: FieldKind =
    inner.def.type === 'enum'
      ? 'select'
      : inner.def.type === 'number'
        ? inner.isInt
          ? 'int'
          : 'number'
        : inner.def.type === 'array' || inner.def.type === 'object'
          ? 'json'
          : 'text';
  const spec: FieldSpec = {
    name,
    label: text.label,
    help: text.help,
    kind,
    optional,
    // An object field left empty is absent; an empty list is the array fields' default.
    defaultText:
      inner.def.type === 'object' && defaultValue === undefined ? '' : valueToText(kind, defaultValue),
    advanced: text.advanced ?? false,
  };
  if (kind === 'select') spec.options = inner.options ?? [];
  if (kind === 'int' || kind === 'number') {
    const min = finiteOrUndefined(inner.minValue);
    const max = finiteOrUndefined(inner.maxValue);
    if (min !== undefined) spec.min = min;
    if (max !== undefined) spec.max = max;
  }
  return spec;
}

function valueToText(kind: FieldKind, value: unknown): string {
  if (value === undefined || value === null) return kind === 'json' ? '[]' : '';
  if (kind === 'json') return JSON.stringify(value, null, 2);
  return String(value);
}

/** The form's fields in schema order. */
export const FIELD_SPECS: readonly FieldSpec[] = (Object.keys(RunConfigSchema.shape) as FieldName[]).map(
  specOf,
);
const SPEC_BY_NAME = new Map(FIELD_SPECS.map((s) => [s.name, s]));

export function fieldSpec(name: FieldName): FieldSpec {
  const spec = SPEC_BY_NAME.get(name);
  if (!spec) throw new Error(`no form field ${name}`);
  return spec;
}

/** A config (e.g. a previous run's) as form text; absent keys show the schema's default. */
export function configToForm(config: RunConfigInput = {}): FormState {
  const state = {} as FormState;
  for (const spec of FIELD_SPECS) {
    const value = (config as Record<string, unknown>)[spec.name];
    state[spec.name] = value === undefined ? spec.defaultText : valueToText(spec.kind, value);
  }
  return state;
}

/** The form as the schema's defaults fill it. */
export const DEFAULT_FORM: FormState = configToForm({});

const NUMBER_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Form text → the object handed to the schema. Empty fields are left out (the schema's default
 * applies, or the option stays unset); text that is not a number or not JSON is reported here,
 * before the schema sees it.
 */
export function formToInput(form: FormState): { input: Record<string, unknown>; errors: FieldErrors } {
  const input: Record<string, unknown> = {};
  const errors: FieldErrors = {};
  for (const spec of FIELD_SPECS) {
    const raw = form[spec.name] ?? '';
    const text = spec.kind === 'json' ? raw : raw.trim();
    if (text.trim() === '') continue;
    if (spec.kind === 'int' || spec.kind === 'number') {
      if (!NUMBER_TEXT.test(text)) {
        errors[spec.name] = ['Enter a number.'];
        continue;
      }
      input[spec.name] = Number(text);
    } else if (spec.kind === 'json') {
      try {
        input[spec.name] = JSON.parse(text);
      } catch (error) {
        errors[spec.name] = [`Not valid JSON: ${(error as Error).message}`];
      }
    } else {
      input[spec.name] = text;
    }
  }
  return { input, errors };
}

export interface IssueLike {
  path: readonly PropertyKey[];
  message: string;
}

/**
 * zod issues → messages per form field, by the first element of each issue's path. Issues inside
 * the overrides array say which entry and key they are about (`[1].dropout: …`); issues with no
 * field (e.g. an unknown key) go to `_form`.
 */
export function issuesToFieldErrors(issues: readonly IssueLike[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const [head, ...rest] = issue.path;
    const field =
      typeof head === 'string' && SPEC_BY_NAME.has(head as FieldName) ? (head as FieldName) : '_form';
    const where =
      rest.length > 0
        ? `${rest.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: `
        : '';
    const message = `${where.replace(/^\./, '')}${issue.message}`;
    const list = (errors[field] ??= []);
    if (!list.includes(message)) list.push(message);
  }
  return errors;
}

export type FormValidation =
  | { ok: true; config: RunConfig; errors: FieldErrors }
  | { ok: false; input: Record<string, unknown>; errors: FieldErrors };

/** The form checked by RunConfigSchema: the config to launch, or the errors per field. */
export function validateForm(form: FormState): FormValidation {
  const { input, errors } = formToInput(form);
  const parsed = RunConfigSchema.safeParse(input);
  if (parsed.success && Object.keys(errors).length === 0)
    return { ok: true, config: parsed.data, errors: {} };
  const schemaErrors = parsed.success ? {} : issuesToFieldErrors(parsed.error.issues);
  // A field whose text could not be read reports that, not the schema's view of its absence.
  const merged: FieldErrors = { ...schemaErrors, ...errors };
  return { ok: false, input, errors: merged };
}

/** Number of error messages (for the summary above the submit button). */
export function countErrors(errors: FieldErrors): number {
  return Object.values(errors).reduce((n, list) => n + (list?.length ?? 0), 0);
}
