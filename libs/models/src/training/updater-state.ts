/** The optimizer state a training loop can save and continue from, and its checks. */
import type * as tf from '@tensorflow/tfjs-core';
import { ModelError } from '../errors';

/**
 * Everything an optimizer carries from one step to the next, as copies: its tfjs class name, the
 * steps it applied (Adam's t), tfjs-internal scalars (stock Adam's β₁ᵗ⁺¹, β₂ᵗ⁺¹ products), and its
 * per-variable slots (Adam: 'm' and 'v'; SGD: none).
 */
export interface UpdaterState {
  optimizer: string;
  iterations: number;
  scalars: Record<string, number>;
  slots: { variable: tf.Variable; slot: string; values: Float32Array }[];
}

export interface Updater {
  /** Applies one step; `grads[i]` belongs to `vars[i]`. Does not dispose `grads`. */
  apply(vars: tf.Variable[], grads: tf.Tensor[]): void;
  /** A copy of the state (no tensors are left behind). */
  exportState(): Promise<UpdaterState>;
  /** Continues from `state` (from `exportState` of the same optimizer); call before `apply`. */
  importState(state: UpdaterState): Promise<void>;
  /**
   * Allocates the state of `vars` (zeros) that the first `apply` would, variable by variable with
   * a turn of the event loop after each; optional (optimizers without per-variable state).
   */
  prepare?(vars: tf.Variable[]): Promise<void>;
}

function stateMismatch(message: string): ModelError {
  return new ModelError('weights-mismatch', message);
}

/** Checks `state` against the optimizer that will load it; returns its slots by variable and name. */
export function checkState(
  state: UpdaterState,
  optimizer: string,
  allowedSlots: readonly string[],
): Map<tf.Variable, Map<string, Float32Array>> {
  if (state.optimizer !== optimizer) {
    throw stateMismatch(
      `the checkpoint holds ${state.optimizer} state but the model trains with ${optimizer}`,
    );
  }
  if (!(Number.isSafeInteger(state.iterations) && state.iterations >= 0)) {
    throw stateMismatch(`optimizer step count ${state.iterations} is not a count`);
  }
  const out = new Map<tf.Variable, Map<string, Float32Array>>();
  for (const { variable, slot, values } of state.slots) {
    if (!allowedSlots.includes(slot)) throw stateMismatch(`${optimizer} has no slot '${slot}'`);
    if (values.length !== variable.size) {
      throw stateMismatch(
        `optimizer slot ${slot} of a variable of ${variable.size} values has ${values.length} values`,
      );
    }
    const slots = out.get(variable) ?? new Map<string, Float32Array>();
    slots.set(slot, values);
    out.set(variable, slots);
  }
  return out;
}
