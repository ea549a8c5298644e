import * as tfl from '@tensorflow/tfjs-layers';
import { FACE_SIZE } from '../data/faces.js';
import { NUM_CLASSES } from '../data/labels.js';
import { SeededDropout, isReseedable } from './seeded-dropout.js';
import { StochasticPooling2D } from './stochastic-pooling.js';

/** Everything needed to rebuild a network; saved beside its weights. */
export interface NetworkConfig {
  architecture: 'yu-zhang-2015';
  /** Dropout on the two hidden FC layers; the paper gives no rate. */
  dropout: number;
  /** Seed of the weight initialisation: ensemble members differ only in this. */
  initSeed: number;
}

export const DEFAULT_NETWORK: NetworkConfig = { architecture: 'yu-zhang-2015', dropout: 0.5, initSeed: 1 };

/**
 * The paper's CNN (§5.1, Fig. 3): conv5x5/64, pool, conv3x3/64, conv3x3/128, pool,
 * conv3x3/128, conv3x3/128, pool, FC1024, FC1024, FC7 softmax; ReLU after every conv and
 * hidden FC layer, 'same' padding and ceil-mode 3x3/2 stochastic pooling (48 -> 24 -> 12 -> 6).
 * The weight initialisation is unstated in the paper: Glorot-uniform, seeded.
 */
export function buildNetwork(config: Partial<NetworkConfig> = {}): tfl.LayersModel {
  const { dropout, initSeed } = { ...DEFAULT_NETWORK, ...config };
  let seed = initSeed * 1000;
  const init = () => ({ kernelInitializer: tfl.initializers.glorotUniform({ seed: seed++ }), biasInitializer: 'zeros' as const });
  const conv = (filters: number, kernelSize: number, name: string) =>
    tfl.layers.conv2d({ filters, kernelSize, padding: 'same', activation: 'relu', name, ...init() });
  const pool = (name: string) => new StochasticPooling2D({ poolSize: 3, strides: 2, name });
  return tfl.sequential({
    name: 'yu_zhang_2015',
    layers: [
      tfl.layers.conv2d({ inputShape: [FACE_SIZE, FACE_SIZE, 1], filters: 64, kernelSize: 5, padding: 'same', activation: 'relu', name: 'conv1', ...init() }),
      pool('pool1'),
      conv(64, 3, 'conv2'),
      conv(128, 3, 'conv3'),
      pool('pool2'),
      conv(128, 3, 'conv4'),
      conv(128, 3, 'conv5'),
      pool('pool3'),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ units: 1024, activation: 'relu', name: 'fc1', ...init() }),
      new SeededDropout({ rate: dropout, name: 'dropout1' }),
      tfl.layers.dense({ units: 1024, activation: 'relu', name: 'fc2', ...init() }),
      new SeededDropout({ rate: dropout, name: 'dropout2' }),
      tfl.layers.dense({ units: NUM_CLASSES, activation: 'linear', name: 'logits', ...init() }),
    ],
  });
}

/** Gives every stochastic layer (pooling, dropout) a fresh seed derived from `seed`. */
export function reseedNetwork(model: tfl.LayersModel, seed: number): void {
  model.layers.forEach((layer, i) => {
    if (isReseedable(layer)) layer.reseed((seed + i * 7919) >>> 0);
  });
}

/** Names of the convolutional layers, which fine-tuning freezes. */
export function convLayerNames(model: tfl.LayersModel): string[] {
  return model.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.name);
}
