import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';

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

function stochasticPoolComposite({ inputs, attrs, backend }: KernelArgs): tf.Tensor[] {
  const { poolSize: k, strides: s, training, seed } = attrs as unknown as StochasticPoolAttrs;
  return tf.tidy(() => {
    const x = inputTensor(inputs['x'], backend) as tf.Tensor4D;
    const [n, h, w, c] = x.shape;
    const ho = pooledSize(h, k, s);
    const wo = pooledSize(w, k, s);
    const padded = tf.pad(x, [[0, 0], [0, (ho - 1) * s + k - h], [0, (wo - 1) * s + k - w], [0, 0]]);
    const taps: tf.Tensor4D[] = [];
    for (let di = 0; di < k; di++) {
      for (let dj = 0; dj < k; dj++) {
        taps.push(tf.stridedSlice(padded, [0, di, dj, 0], [n, di + (ho - 1) * s + 1, dj + (wo - 1) * s + 1, c], [1, s, s, 1]) as tf.Tensor4D);
      }
    }
    const total = tf.addN(taps);
    // Flat index into x of each window's top-left element; a tap adds its (di, dj) offset.
    const steps = (count: number, step: number, shape: number[]): tf.Tensor => tf.reshape(tf.range(0, count * step, step, 'int32'), shape);
    const topLeft = tf.add(
      tf.add(steps(n, h * w * c, [n, 1, 1, 1]), steps(ho, s * w * c, [1, ho, 1, 1])),
      tf.add(steps(wo, s * c, [1, 1, wo, 1]), steps(c, 1, [1, 1, 1, c])),
    );
    if (!training) {
      const squares = tf.addN(taps.map((t) => tf.square(t)));
      return [tf.divNoNan(squares, total), tf.broadcastTo(topLeft, [n, ho, wo, c])];
    }
    // The chosen tap is the number of cumulative sums below u ~ U(0, total): tap t wins
    // with probability a_t / total, and a zero tap (an empty interval) never does.
    const u = tf.mul(tf.randomUniform([n, ho, wo, c], 0, 1, 'float32', seed), total);
    let cumulative: tf.Tensor = tf.zerosLike(total);
    let chosen: tf.Tensor = tf.zeros([n, ho, wo, c], 'int32');
    for (const tap of taps.slice(0, -1)) {
      cumulative = tf.add(cumulative, tap);
      chosen = tf.add(chosen, tf.cast(tf.less(cumulative, u), 'int32'));
    }
    const y = tf.addN(taps.map((tap, t) => tf.mul(tap, tf.cast(tf.equal(chosen, t), 'float32'))));
    const offsets = tf.tensor1d(
      Array.from({ length: k * k }, (_, t) => Math.floor(t / k) * w * c + (t % k) * c),
      'int32',
    );
    return [y, tf.add(topLeft, tf.gather(offsets, chosen))];
  });
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
export class StochasticPooling2D extends tfl.layers.Layer {
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
