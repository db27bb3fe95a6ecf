/**
 * @chorus/models — tfjs model builders for ensemble members, backend selection, the training loop,
 * batched prediction and checkpoint bytes.
 */
export type { ModelConfig } from './config';
export { ModelError, isModelError } from './errors';
export type { ModelErrorCode } from './errors';
export { buildModel, buildModelYielding, describeModels, modelSpec } from './models/registry';
export type { ModelDescription } from './models/registry';
export type { LayerSpec, ModelSpec } from './models/spec';
export { importModelFile, SUPPORTED_LAYER_CLASSES } from './models/keras-import';
export type { ImportedModelFile } from './models/keras-import';
export { fileWeightsMismatch, readFileWeights, startFromFileWeights } from './models/file-weights';
export type { FileWeights } from './models/file-weights';
export type { Json } from './models/keras-graph';
export { buildMlp } from './models/mlp';
export { buildFashionDnn } from './models/fashion-dnn';
export { buildFashionSmall } from './models/fashion-small';
export { buildSignCnn } from './models/sign-cnn';
export { buildLenet5 } from './models/lenet5';
export { buildSmallCnn } from './models/small-cnn';
export { selectBackend } from './backends/select';
export { backendMemory, type BackendMemory } from './backends/memory';
export { listGpuAdapters } from './backends/webgpu';
export type { GpuAdapterSummary } from './backends/webgpu';
export type { BackendName, BackendSelection, SelectBackendOptions } from './backends/select';
export { trainOnBatches } from './training/train';
export { prepareTraining } from './training/trainer-state';
export type { BatchMetrics, TrainingData, TrainOptions, TrainResult } from './training/train';
export { predictProbabilities } from './predict';
export { encodeWeights, inspectWeights, loadWeights, saveWeights } from './weights';
export type { WeightEntry, WeightTensor } from './weights';
export { disposeModel } from './dispose';
export {
  CHECKPOINT_VERSION,
  decodeCheckpoint,
  encodeCheckpoint,
  encodeCheckpointYielding,
  loadCheckpoint,
  saveCheckpoint,
} from './checkpoint';
export type {
  CheckpointParts,
  DecodedCheckpoint,
  LoadCheckpointOptions,
  LoadedCheckpoint,
  OptimizerState,
  TrainingState,
} from './checkpoint';
export * from './export/index';
export { predictionRowsOf } from './serving/predict-answer';
export { classNamesOf, predictEnsembleRows } from './serving/predict-rows';
