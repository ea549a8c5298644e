/** The public API: load a model or ensemble once, then call it on photos or 48x48 faces. */
export { FerModel, type FacePrediction, type ImagePrediction, type PredictImageOptions } from './api.js';
export { Ensemble, loadEnsemble, type CombinationMethod, type EnsembleFile } from './ensemble/ensemble.js';
export { EMOTIONS, type Emotion } from './data/labels.js';
export { DEFAULT_MODEL_DIR } from './data/paths.js';
export { initEngine, describeEngine } from './model/engine/backend.js';
export { readFer2013 } from './data/fer2013.js';
export { readImageFolder } from './data/image-folder.js';
export { buildNetwork, type NetworkConfig } from './model/network.js';
export { loadModel, saveModel } from './model/io.js';
