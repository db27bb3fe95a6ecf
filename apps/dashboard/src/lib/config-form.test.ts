import { describe, expect, it } from 'vitest';
import { DATASET_KINDS, RunConfigSchema } from '@chorus/protocol';
import {
  DEFAULT_FORM,
  FIELD_SPECS,
  configToForm,
  countErrors,
  fieldSpec,
  formToInput,
  issuesToFieldErrors,
  validateForm,
} from './config-form';

describe('config form fields', () => {
  it('has one field per schema key, with kinds, bounds and defaults read from the schema', () => {
    expect(FIELD_SPECS.map((s) => s.name)).toEqual(Object.keys(RunConfigSchema.shape));
    expect(fieldSpec('dataset')).toMatchObject({
      kind: 'select',
      options: DATASET_KINDS,
      defaultText: 'mnist',
    });
    // A csv/npy dataset's options are one JSON object, empty by default (the defaults apply).
    expect(fieldSpec('datasetOptions')).toMatchObject({ kind: 'json', optional: true, defaultText: '' });
    expect(fieldSpec('datasetBundle')).toMatchObject({ kind: 'text', optional: true, advanced: true });
    expect(fieldSpec('members')).toMatchObject({
      kind: 'int',
      min: 1,
      max: 64,
      defaultText: '5',
      optional: false,
    });
    expect(fieldSpec('validationFraction')).toMatchObject({ kind: 'number', max: 0.5, defaultText: '0.1' });
    expect(fieldSpec('learningRate')).toMatchObject({ kind: 'number', optional: true, defaultText: '' });
    expect(fieldSpec('optimizer')).toMatchObject({
      kind: 'select',
      optional: true,
      options: ['adam', 'sgd'],
    });
    expect(fieldSpec('memberOverrides')).toMatchObject({ kind: 'json', defaultText: '[]', advanced: true });
    expect(fieldSpec('name')).toMatchObject({ kind: 'text', optional: true });
    // An int with no stated maximum has none in the form either.
    expect(fieldSpec('trainLimit')).toMatchObject({ kind: 'int', min: 1, optional: true });
    expect(fieldSpec('trainLimit').max).toBeUndefined();
  });

  it('turns a csv dataset with its options into a run config', () => {
    const form = {
      ...DEFAULT_FORM,
      dataset: 'csv',
      datasetPath: '/data/iris.csv',
      datasetOptions: '{"labelColumn": "species", "normalize": "minmax"}',
    };
    const v = validateForm(form);
    expect(v.ok && v.config).toMatchObject({
      dataset: 'csv',
      datasetPath: '/data/iris.csv',
      datasetOptions: { labelColumn: 'species', normalize: 'minmax' },
    });
    const bad = validateForm({ ...form, datasetOptions: '{"labelColum": 1}' });
    expect(bad.errors.datasetOptions).toEqual(['Unrecognized key: "labelColum"']);
  });

  it('turns an images dataset with its size and channels into a run config', () => {
    const form = { ...DEFAULT_FORM, dataset: 'images', datasetPath: '/data/pets', datasetOptions: '{"imageSize": [32, 48], "channels": 3}' };
    const v = validateForm(form);
    expect(v.ok && v.config).toMatchObject({ dataset: 'images', datasetPath: '/data/pets', datasetOptions: { imageSize: [32, 48], channels: 3 } });
    const bad = validateForm({ ...form, datasetOptions: '{"channels": 2}' });
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad.errors)).toContain('channels');
  });

  it('fills the form with the defaults', () => {
    expect(DEFAULT_FORM).toEqual({
      name: '',
      dataset: 'mnist',
      datasetPath: '',
      datasetOptions: '',
      datasetBundle: '',
      model: 'mlp',
      modelFile: '',
      members: '5',
      sharding: 'round-robin',
      epochs: '2',
      batchSize: '64',
      seed: '1',
      trainLimit: '',
      validationFraction: '0.1',
      learningRate: '',
      optimizer: '',
      memberOverrides: '[]',
    });
  });
});

describe('form ⇄ config', () => {
  it('turns the default form into the default config', () => {
    const result = validateForm(DEFAULT_FORM);
    expect(result).toEqual({ ok: true, config: RunConfigSchema.parse({}), errors: {} });
  });

  it('round-trips a config through the form', () => {
    const config = RunConfigSchema.parse({
      name: 'wide dropout',
      dataset: 'digits',
      model: 'mlp',
      members: 3,
      sharding: 'bootstrap',
      epochs: 4,
      batchSize: 32,
      seed: 9,
      trainLimit: 500,
      validationFraction: 0.2,
      learningRate: 0.005,
      optimizer: 'sgd',
      memberOverrides: [{ member: 2, dropout: 0.5 }],
    });
    const form = configToForm(config);
    expect(form.members).toBe('3');
    expect(form.learningRate).toBe('0.005');
    expect(JSON.parse(form.memberOverrides)).toEqual([{ member: 2, dropout: 0.5 }]);
    expect(validateForm(form)).toEqual({ ok: true, config, errors: {} });
    // A run of a model file (`chorus run --model-file`) copied into the form keeps its file.
    const modelFile = {
      fileName: 'net.json',
      name: 'net',
      inputShape: [64],
      layers: [
        { kind: 'dropout', name: 'drop', rate: 0.2 },
        { kind: 'dense', name: 'out', units: 10, activation: 'softmax', init: 'glorotUniform' },
      ],
    };
    const fromFile = RunConfigSchema.parse({ ...config, modelFile });
    expect(fieldSpec('modelFile')).toMatchObject({ kind: 'json', defaultText: '', advanced: true });
    expect(validateForm(configToForm(fromFile))).toEqual({ ok: true, config: fromFile, errors: {} });
  });

  it('leaves empty fields out and trims text', () => {
    const { input, errors } = formToInput({ ...DEFAULT_FORM, name: '  my run ', members: ' 7 ', seed: '' });
    expect(errors).toEqual({});
    expect(input).toMatchObject({ name: 'my run', members: 7 });
    expect(input).not.toHaveProperty('seed');
    expect(input).not.toHaveProperty('learningRate');
    expect(input).not.toHaveProperty('optimizer');
  });

  it('reports text that is not a number or not JSON on its field', () => {
    const result = validateForm({ ...DEFAULT_FORM, epochs: 'two', batchSize: '0x10', memberOverrides: '[{' });
    expect(result.ok).toBe(false);
    expect(result.errors.epochs).toEqual(['Enter a number.']);
    expect(result.errors.batchSize).toEqual(['Enter a number.']);
    expect(result.errors.memberOverrides?.[0]).toMatch(/^Not valid JSON: /);
    expect(countErrors(result.errors)).toBe(3);
  });

  it('maps the schema’s issues to their fields', () => {
    const result = validateForm({
      ...DEFAULT_FORM,
      members: '2',
      epochs: '0',
      batchSize: '1.5',
      validationFraction: '0.7',
      memberOverrides: '[{"member": 3}, {"member": 1, "dropout": 2}]',
    });
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual({
      epochs: ['Too small: expected number to be >=1'],
      batchSize: ['Invalid input: expected int, received number'],
      validationFraction: ['Too big: expected number to be <=0.5'],
      memberOverrides: ['[1].dropout: Too big: expected number to be <=0.95'],
    });
  });

  it('reports the cross-field checks on overrides once the rest is valid', () => {
    const result = validateForm({
      ...DEFAULT_FORM,
      members: '2',
      memberOverrides: '[{"member": 3}, {"member": 3}]',
    });
    expect(result.errors).toEqual({
      memberOverrides: [
        '[0].member: member 3 does not exist: the run has 2 members (0–1)',
        '[1].member: member 3 does not exist: the run has 2 members (0–1)',
        '[1].member: member 3 has more than one override',
      ],
    });
  });
});

describe('issuesToFieldErrors', () => {
  it('sends issues without a known field to _form and drops repeats', () => {
    expect(
      issuesToFieldErrors([
        { path: [], message: 'Unrecognized key: "foo"' },
        { path: ['bogus'], message: 'nope' },
        { path: ['seed'], message: 'too big' },
        { path: ['seed'], message: 'too big' },
        { path: ['memberOverrides', 0, 'member'], message: 'duplicate' },
        { path: ['memberOverrides'], message: 'Too big: expected array to have <=64 items' },
      ]),
    ).toEqual({
      _form: ['Unrecognized key: "foo"', 'nope'],
      seed: ['too big'],
      memberOverrides: ['[0].member: duplicate', 'Too big: expected array to have <=64 items'],
    });
  });
});
