/**
 * What a model's training carries from one `trainOnBatches` call to the next: the step count
 * (dropout masks are derived from (layer seed, step), so the step is the whole dropout stream
 * position), the optimizer's state, and the plans of the fast paths. It lives beside the model
 * object; `saveTrainingState` / `restoreTrainingState` copy the part a checkpoint needs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelError } from '../errors';
import { planGeneric } from './autodiff';
import type { GenericPlan } from './autodiff';
import { planConv } from './conv-plan';
import type { ConvPlan } from './conv-plan';
import { MaskBuffers } from './dense-host';
import { planDense } from './dense-plan';
import type { DensePlan } from './dense-plan';
import { baseDropoutSeed } from './dropout';
import { hostMemory } from './host-memory';
import { makeUpdater } from './optimizer';
import type { Updater, UpdaterState } from './optimizer';

export interface TrainerState {
  step: number;
  dense: DensePlan | null;
  /** The tape-free convnet plan (conv-plan.ts), where the model has that shape. */
  conv: ConvPlan | null;
  generic: GenericPlan;
  updater: Updater;
  updaterBackend: string;
  masks: MaskBuffers;
  denseDropoutSeeds: number[];
}

/** An optimizer's state with its variables named by layer-scoped weight names ("hidden1/kernel"). */
export interface OptimizerState {
  /** tfjs class name: 'Adam', 'SGD', … */
  name: string;
  /** Steps the optimizer applied (Adam's bias-correction t). */
  iterations: number;
  /** tfjs-internal running scalars (the stock Adam's β products); empty for the fused updaters. */
  scalars: Record<string, number>;
  slots: { variable: string; slot: string; values: Float32Array }[];
}

/** The part of a model's training state a checkpoint holds, beside the weights. */
export interface TrainingState {
  /** Steps the model has trained: the position of every dropout mask stream. */
  step: number;
  /** null: the optimizer has not stepped (or the state is unknown) — it starts fresh. */
  optimizer: OptimizerState | null;
}

const states = new WeakMap<tfl.LayersModel, TrainerState>();

export function stateOf(model: tfl.LayersModel): TrainerState {
  const backend = tf.getBackend();
  let state = states.get(model);
  if (state === undefined) {
    const dense = planDense(model);
    state = {
      step: 0,
      dense,
      conv: dense === null ? planConv(model) : null,
      generic: planGeneric(model),
      updater: makeUpdater(model.optimizer, hostMemory()),
      updaterBackend: backend,
      masks: new MaskBuffers(),
      denseDropoutSeeds:
        dense?.stages.map((s) => (s.dropout === null ? 0 : baseDropoutSeed(s.dropout.layer))) ?? [],
    };
    states.set(model, state);
  } else if (state.updaterBackend !== backend) {
    // Optimizer moments live with the backend's tensors; a backend switch starts them afresh.
    state.updater = makeUpdater(model.optimizer, hostMemory());
    state.updaterBackend = backend;
  }
  return state;
}

/**
 * Sets up what the model's first training step would (its plan, its optimizer's state: Adam's
 * moments are twice the weights), the optimizer's state variable by variable with turns of the
 * event loop in between, so the first step of a large model holds the thread no longer than the
 * others. Optional: the first step does it otherwise. Call it after a checkpoint is loaded.
 */
export async function prepareTraining(model: tfl.LayersModel): Promise<void> {
  const state = stateOf(model);
  await state.updater.prepare?.(state.dense?.vars ?? state.generic.vars);
}

/** The model's variables by layer-scoped name, and back. */
function variableNames(model: tfl.LayersModel): {
  byVariable: Map<tf.Variable, string>;
  byName: Map<string, tf.Variable>;
} {
  const byVariable = new Map<tf.Variable, string>();
  const byName = new Map<string, tf.Variable>();
  for (const w of model.weights) {
    const variable = w.read() as tf.Variable;
    byVariable.set(variable, w.originalName);
    byName.set(w.originalName, variable);
  }
  return { byVariable, byName };
}

/** A copy of the model's step count and optimizer state (nothing is left on the engine). */
export async function saveTrainingState(model: tfl.LayersModel): Promise<TrainingState> {
  const state = states.get(model);
  if (state === undefined) return { step: 0, optimizer: null };
  const exported = await state.updater.exportState();
  const { byVariable } = variableNames(model);
  const slots = exported.slots.map(({ variable, slot, values }) => {
    const name = byVariable.get(variable);
    if (name === undefined) throw new Error(`optimizer slot ${slot} belongs to a variable of another model`);
    return { variable: name, slot, values };
  });
  return {
    step: state.step,
    optimizer: {
      name: exported.optimizer,
      iterations: exported.iterations,
      scalars: exported.scalars,
      slots,
    },
  };
}

/**
 * Makes `model` continue from `saved`: its step count, and a fresh optimizer of the model's kind
 * loaded with the saved state (none: a fresh optimizer). A mismatch (another optimizer, unknown
 * variable, wrong size) is a 'weights-mismatch'.
 */
export async function restoreTrainingState(model: tfl.LayersModel, saved: TrainingState): Promise<void> {
  (await prepareTrainingState(model, saved))();
}

/**
 * `restoreTrainingState` in two parts: checks `saved` and loads it into a new optimizer, then (the
 * returned function) puts it in place. Until then the model's training state is unchanged (the
 * stock tfjs updater excepted: its optimizer object is the model's).
 */
export async function prepareTrainingState(
  model: tfl.LayersModel,
  saved: TrainingState,
): Promise<() => void> {
  if (!(Number.isSafeInteger(saved.step) && saved.step >= 0)) {
    throw new ModelError('weights-mismatch', `checkpoint step ${saved.step} is not a step count`);
  }
  const state = stateOf(model);
  const updater = makeUpdater(model.optimizer, hostMemory());
  if (saved.optimizer !== null) {
    const { byName } = variableNames(model);
    const slots: UpdaterState['slots'] = saved.optimizer.slots.map(({ variable, slot, values }) => {
      const v = byName.get(variable);
      if (v === undefined) {
        throw new ModelError(
          'weights-mismatch',
          `optimizer state names variable ${variable}, which the model lacks`,
        );
      }
      return { variable: v, slot, values };
    });
    const { name, iterations, scalars } = saved.optimizer;
    await updater.importState({ optimizer: name, iterations, scalars, slots });
  }
  return () => {
    state.updater = updater;
    state.step = saved.step;
  };
}
