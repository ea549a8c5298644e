import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import type { Reseedable } from './seeded-dropout.js';
import { gatherFlat } from '../util/tensor-ops.js';
import { exponentialNoise } from '../util/rng.js';

/**
 * Stochastic pooling (Zeiler & Fergus 2013) as a tfjs op with kernels of its own, so that
 * a native backend can run it in one pass while cpu and wasm use the composite below.
 *
 * Inputs are non-negative (they follow a ReLU). Output size is ceil-mode,
 * ceil((H - poolSize) / strides) + 1, with the far edge zero-padded: 48 -> 24 -> 12 -> 6.
 *  - training: one location per window, drawn with probability a_i / sum(a); the gradient
 *    flows to that location only. An all-zero window gives 0 (and its top-left location).
 *  - inference: probabilistic weighting sum(a_i^2) / sum(a), deterministic; 0 for all-zero windows.
 */
export const STOCHASTIC_POOL = 'StochasticPool2D';
export const STOCHASTIC_POOL_GRAD = 'StochasticPool2DGrad';

export interface StochasticPoolAttrs {
  poolSize: number;
  strides: number;
  training: boolean;
  seed: number;
}

export function pooledSize(size: number, poolSize: number, strides: number): number {
  return Math.ceil((size - poolSize) / strides) + 1;
}

/** Applies stochastic pooling; differentiable in training mode. */
export function stochasticPool2d(x: tf.Tensor4D, attrs: StochasticPoolAttrs): tf.Tensor4D {
  const kernelAttrs = attrs as unknown as tf.NamedAttrMap;
  if (!attrs.training) {
    const [y, argIndex] = tf.engine().runKernel(STOCHASTIC_POOL, { x }, kernelAttrs) as tf.Tensor[];
    argIndex!.dispose();
    return y as tf.Tensor4D;
  }
  const forward = (input: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, argIndex] = tf.engine().runKernel(STOCHASTIC_POOL, { x: input }, kernelAttrs) as tf.Tensor[];
    save([argIndex as tf.Tensor]);
    return {
      value: y as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel(STOCHASTIC_POOL_GRAD, { dy, argIndex: saved[0] as tf.Tensor }, { inputShape: input.shape }) as tf.Tensor,
    };
  };
  return tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0])(x) as tf.Tensor4D;
}

/** The composite kernels, built from ordinary tf ops; any backend without a native kernel uses them. */
type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: tf.KernelBackend };

/**
 * A kernel's input as a Tensor, for tf ops inside the kernel's tidy. The wrapper takes a
 * reference of its own, so disposing it at the end of the tidy leaves the input alive.
 */
function inputTensor(info: tf.TensorInfo | undefined, backend: tf.KernelBackend): tf.Tensor {
  const tensorInfo = info as tf.TensorInfo;
  (backend as tf.KernelBackend & { incRef(dataId: tf.DataId): void }).incRef(tensorInfo.dataId);
  return tf.engine().makeTensorFromTensorInfo(tensorInfo, backend);
}

/**
 * Sums over windows come from average pooling of the zero-padded input (the 1/9 cancels in
 * the ratio). Sampling uses the exponential race: with E_i ~ Exp(1), argmax_i a_i / E_i is i
 * with probability a_i / sum(a), so one max-pool-with-argmax draws every window at once.
 * Windows that overlap share the noise of their common inputs: each window's draw has the
 * right distribution, but overlapping windows are not independent of each other.
 */
function stochasticPoolComposite({ inputs, attrs, backend }: KernelArgs): tf.Tensor[] {
  const { poolSize: k, strides: s, training, seed } = attrs as unknown as StochasticPoolAttrs;
  return tf.tidy(() => {
    const x = inputTensor(inputs['x'], backend) as tf.Tensor4D;
    const [n, h, w, c] = x.shape;
    const ho = pooledSize(h, k, s);
    const wo = pooledSize(w, k, s);
    const hp = (ho - 1) * s + k;
    const wp = (wo - 1) * s + k;
    const padded = tf.pad(x, [[0, 0], [0, hp - h], [0, wp - w], [0, 0]]);
    if (!training) {
      const weighted = tf.divNoNan(tf.avgPool(tf.square(padded), k, s, 'valid'), tf.avgPool(padded, k, s, 'valid'));
      return [weighted, tf.zeros([n, ho, wo, c], 'int32')];
    }
    const exponential = tf.tensor(exponentialNoise(padded.size, seed), padded.shape);
    const keys = tf.add(tf.div(padded, exponential), topLeftFirst(n, hp, wp, c));
    const { indexes } = tf.maxPoolWithArgmax(keys as tf.Tensor4D, k, s, 'valid', true);
    const flatIndex = tf.reshape(indexes, [-1]) as tf.Tensor1D;
    const y = tf.reshape(gatherFlat(tf.reshape(padded, [-1]) as tf.Tensor1D, flatIndex), [n, ho, wo, c]);
    return [y, tf.reshape(unpadIndex(flatIndex, hp, wp, c, h, w), [n, ho, wo, c])];
  });
}

const TIE_BREAK = 1e-30;

/**
 * A tiny offset, largest at the top-left of the image and falling along rows, so that an
 * all-zero window picks its top-left element (which is never padding) and every argmax
 * stays inside its window, whatever a kernel does with ties or with windows at or below
 * its starting maximum. Against any real activation it is negligible. Built with matMuls
 * against ones, as the wasm backend's broadcasting and tiling are slow.
 */
function topLeftFirst(n: number, hp: number, wp: number, c: number): tf.Tensor {
  const perPosition = tf.reshape(tf.mul(tf.sub(1, tf.div(tf.range(0, hp * wp, 1, 'float32'), hp * wp)), TIE_BREAK), [hp * wp, 1]);
  const perImage = tf.reshape(tf.matMul(perPosition, tf.ones([1, c])), [1, hp * wp * c]);
  return tf.reshape(tf.matMul(tf.ones([n, 1]), perImage), [n, hp, wp, c]);
}

/** Flat indices into a [n, hp, wp, c] tensor, as flat indices into its [n, h, w, c] top-left corner. */
function unpadIndex(index: tf.Tensor1D, hp: number, wp: number, c: number, h: number, w: number): tf.Tensor {
  const int = (v: number): tf.Scalar => tf.scalar(v, 'int32');
  const batch = tf.floorDiv(index, int(hp * wp * c));
  const inImage = tf.sub(index, tf.mul(batch, int(hp * wp * c)));
  const row = tf.floorDiv(inImage, int(wp * c));
  const inRow = tf.sub(inImage, tf.mul(row, int(wp * c)));
  const rowStart = tf.mul(tf.add(tf.mul(batch, int(h)), row), int(w * c));
  return tf.add(rowStart, inRow);
}

function stochasticPoolGradComposite({ inputs, attrs, backend }: KernelArgs): tf.Tensor {
  const { inputShape } = attrs as unknown as { inputShape: number[] };
  return tf.tidy(() => {
    const dy = inputTensor(inputs['dy'], backend);
    const argIndex = inputTensor(inputs['argIndex'], backend);
    const size = inputShape.reduce((a, b) => a * b, 1);
    // scatterND sums duplicate indices, which overlapping 3x3/2 windows produce.
    return tf.reshape(tf.scatterND(tf.reshape(argIndex, [-1, 1]), tf.reshape(dy, [-1]), [size]), inputShape);
  });
}

/** Registers the composite kernels for a backend that has no native stochastic pooling. */
export function registerStochasticPoolComposite(backendName: string): void {
  if (!tf.getKernel(STOCHASTIC_POOL, backendName)) {
    tf.registerKernel({ kernelName: STOCHASTIC_POOL, backendName, kernelFunc: stochasticPoolComposite as unknown as tf.KernelFunc });
  }
  if (!tf.getKernel(STOCHASTIC_POOL_GRAD, backendName)) {
    tf.registerKernel({ kernelName: STOCHASTIC_POOL_GRAD, backendName, kernelFunc: stochasticPoolGradComposite as unknown as tf.KernelFunc });
  }
}

for (const backendName of ['cpu', 'wasm']) registerStochasticPoolComposite(backendName);

export interface StochasticPooling2DConfig extends LayerArgs {
  poolSize?: number;
  strides?: number;
  seed?: number;
}

/**
 * The pooling layer. Each training call draws a fresh seed from a counter, so a run is
 * reproducible from `reseed(seed)`; the trainer reseeds it every step.
 */
export class StochasticPooling2D extends tfl.layers.Layer implements Reseedable {
  static readonly className = 'StochasticPooling2D';
  readonly poolSize: number;
  readonly strides: number;
  private seed: number;

  constructor(config: StochasticPooling2DConfig = {}) {
    super(config);
    this.poolSize = config.poolSize ?? 3;
    this.strides = config.strides ?? 2;
    this.seed = config.seed ?? 0;
  }

  reseed(seed: number): void {
    this.seed = seed;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [n, h, w, c] = inputShape as tfl.Shape;
    return [n ?? null, pooledSize(h as number, this.poolSize, this.strides), pooledSize(w as number, this.poolSize, this.strides), c ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    const training = kwargs['training'] === true;
    const seed = this.seed;
    if (training) this.seed = (this.seed + 1) >>> 0;
    return stochasticPool2d(x, { poolSize: this.poolSize, strides: this.strides, training, seed });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides };
  }
}
tf.serialization.registerClass(StochasticPooling2D);
