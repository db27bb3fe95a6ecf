export { applyPreprocess } from './preprocess';
export { layersModelFiles, SHARD_BYTES, type LayersModelFiles } from './layers-files';
export { checkExportTarget, writeEnsembleExport, type EnsembleExportInput } from './write';
export { readEnsembleExport, type LoadedEnsemble } from './read';
export { predictWithEnsemble, type EnsemblePrediction, type PredictOptions } from './predict';
export { modelsFromCheckpoints } from './from-checkpoints';
export { writeTestEnsemble } from './test-export';
