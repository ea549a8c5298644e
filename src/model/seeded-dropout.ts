import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';

/** A layer whose randomness the trainer re-seeds every step, so a run replays from its seed. */
export interface Reseedable {
  reseed(seed: number): void;
}

export function isReseedable(layer: unknown): layer is Reseedable {
  return typeof (layer as Partial<Reseedable>).reseed === 'function';
}

export interface SeededDropoutConfig extends LayerArgs {
  rate: number;
}

/**
 * Inverted dropout with a seed that advances on every training call. tfjs-layers' own
 * Dropout either takes Math.random (not reproducible) or one fixed seed (the same mask
 * on every step), neither of which a reproducible training run can use.
 */
export class SeededDropout extends tfl.layers.Layer implements Reseedable {
  static readonly className = 'SeededDropout';
  readonly rate: number;
  private seed = 0;

  constructor(config: SeededDropoutConfig) {
    super(config);
    this.rate = config.rate;
  }

  reseed(seed: number): void {
    this.seed = seed;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
    if (kwargs['training'] !== true || this.rate === 0) return tf.clone(x);
    const seed = this.seed;
    this.seed = (this.seed + 1) >>> 0;
    return tf.dropout(x, this.rate, undefined, seed);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}
tf.serialization.registerClass(SeededDropout);
