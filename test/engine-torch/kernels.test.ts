/**
 * Conformance of every native torch kernel against the tfjs cpu backend: the same inputs
 * on both, outputs compared (ints and bools exactly), and the gradients the network's
 * training takes through tf.grads. The last test checks each native kernel was exercised.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { bools, ints, onBoth, skip, uniform } from './harness.js';
import { loadAddon } from '../../src/model/engine/torch/addon.js';
import { buildKernels } from '../../src/model/engine/torch/kernels.js';
import { fallbacksUsed } from '../../src/model/engine/torch/index.js';

/** Element-wise results: both sides evaluate the same float32 formula, up to libm/SLEEF ulps. */
const ELEMENTWISE_TOL = 1e-6;
/** Transcendentals where SLEEF and V8's libm differ by a few ulps. */
const TRANSCENDENTAL_TOL = 1e-5;
/** Sums of up to ~10^4 float32 terms, accumulated in different orders (blocked GEMM, oneDNN). */
const SUM_TOL = 1e-5;
const CONV_TOL = 2e-5;

const seen = new Set<string>();
if (!skip) {
  const engine = tf.engine();
  const runKernel = engine.runKernel.bind(engine);
  engine.runKernel = ((name: string, inputs: tf.NamedTensorMap, attrs?: tf.NamedAttrMap) => {
    if (tf.getBackend() === 'torch') seen.add(name);
    return runKernel(name, inputs, attrs);
  }) as typeof engine.runKernel;
  after(() => {
    engine.runKernel = runKernel;
  });
}

type Case = [name: string, compute: () => tf.Tensor | tf.Tensor[], tol?: number];

function cases(group: string, list: Case[], defaultTol = ELEMENTWISE_TOL): void {
  for (const [name, compute, tol] of list) {
    test(`${group}: ${name}`, { skip }, async (t) => {
      const err = await onBoth(compute, tol ?? defaultTol);
      t.diagnostic(`max scaled error ${err.toExponential(2)}`);
    });
  }
}

const x345 = () => uniform([3, 4, 5], 1, -3, 3);
const pos345 = () => uniform([3, 4, 5], 2, 0.1, 4);
const unit345 = () => uniform([3, 4, 5], 3, -0.95, 0.95);
const special = () => tf.tensor1d([0.5, 1.5, 2.5, -0.5, -1.5, 0, -0, 3.7, -3.7, NaN, Infinity, -Infinity]);

cases('unary', [
  ['Abs', () => tf.abs(x345())],
  ['Abs int32', () => tf.abs(ints([10], 4, -5, 5))],
  ['Acos', () => tf.acos(unit345())],
  ['Acosh', () => tf.acosh(uniform([10], 5, 1.1, 4))],
  ['Asin', () => tf.asin(unit345())],
  ['Asinh', () => tf.asinh(x345())],
  ['Atan', () => tf.atan(x345())],
  ['Atanh', () => tf.atanh(unit345())],
  ['Ceil', () => tf.ceil(special())],
  ['ClipByValue', () => tf.clipByValue(x345(), -0.5, 0.7)],
  ['Cos', () => tf.cos(x345())],
  ['Cosh', () => tf.cosh(x345())],
  ['Elu', () => tf.elu(x345())],
  ['Erf', () => tf.erf(x345())],
  ['Exp', () => tf.exp(x345())],
  ['Expm1', () => tf.expm1(x345())],
  ['Floor', () => tf.floor(special())],
  ['IsFinite', () => tf.isFinite(special())],
  ['IsInf', () => tf.isInf(special())],
  ['IsNan', () => tf.isNaN(special())],
  ['LeakyRelu', () => tf.leakyRelu(x345(), 0.1)],
  ['Log', () => tf.log(pos345())],
  ['Log1p', () => tf.log1p(pos345())],
  ['LogicalNot', () => tf.logicalNot(bools([3, 4], 6))],
  ['Neg', () => tf.neg(x345())],
  ['Reciprocal', () => tf.reciprocal(pos345())],
  ['Relu', () => tf.relu(x345())],
  ['Relu6', () => tf.relu6(tf.mul(x345(), 3))],
  ['Round (half to even)', () => tf.round(special())],
  ['Rsqrt', () => tf.rsqrt(pos345())],
  ['Selu', () => tf.selu(x345())],
  ['Sigmoid', () => tf.sigmoid(x345())],
  ['Sign', () => tf.sign(special())],
  ['Sin', () => tf.sin(x345())],
  ['Sinh', () => tf.sinh(x345())],
  ['Softplus', () => tf.softplus(x345())],
  ['Sqrt', () => tf.sqrt(pos345())],
  ['Square', () => tf.square(x345())],
  ['Step', () => tf.step(tf.concat([tf.reshape(x345(), [-1]), tf.tensor1d([0, NaN])]), 0.3)],
  ['Tan', () => tf.tan(unit345())],
  ['Tanh', () => tf.tanh(x345())],
].map(([n, f]) => [n, f, TRANSCENDENTAL_TOL] as Case));

const a345 = () => uniform([3, 4, 5], 11, -3, 3);
const b5 = () => uniform([5], 12, -3, 3);
const i34 = () => ints([3, 4], 13, -6, 6);
const j34 = () => ints([3, 4], 14, -3, 4);
const nonzeroInts = () => tf.add(tf.mul(ints([3, 4], 15, 1, 4), tf.sign(ints([3, 4], 16, -5, 5))), tf.scalar(0, 'int32'));

cases('binary', [
  ['Add broadcast', () => tf.add(a345(), b5())],
  ['Add int32', () => tf.add(i34(), j34())],
  ['Atan2', () => tf.atan2(a345(), uniform([3, 4, 5], 17)), TRANSCENDENTAL_TOL],
  ['Equal', () => tf.equal(i34(), j34())],
  ['FloorDiv int32', () => tf.floorDiv(i34(), tf.where(tf.equal(nonzeroInts(), 0), tf.onesLike(i34()), nonzeroInts()))],
  ['FloorDiv float32', () => tf.floorDiv(a345(), b5())],
  ['Greater', () => tf.greater(a345(), b5())],
  ['GreaterEqual', () => tf.greaterEqual(i34(), j34())],
  ['Less', () => tf.less(a345(), b5())],
  ['LessEqual', () => tf.lessEqual(i34(), j34())],
  ['LogicalAnd', () => tf.logicalAnd(bools([3, 4], 18), bools([3, 4], 19))],
  ['LogicalOr', () => tf.logicalOr(bools([3, 4], 18), bools([4], 20))],
  ['Maximum', () => tf.maximum(a345(), b5())],
  ['Minimum', () => tf.minimum(a345(), b5())],
  ['Mod float32 (sign of divisor)', () => tf.mod(a345(), b5())],
  ['Multiply', () => tf.mul(a345(), b5())],
  ['NotEqual', () => tf.notEqual(i34(), j34())],
  ['Pow', () => tf.pow(uniform([3, 4, 5], 21, 0.1, 3), b5()), TRANSCENDENTAL_TOL],
  ['Prelu', () => tf.prelu(a345(), b5())],
  ['RealDiv', () => tf.div(a345(), b5())],
  ['SquaredDifference', () => tf.squaredDifference(a345(), b5())],
  ['Sub', () => tf.sub(a345(), b5())],
]);

const r = () => uniform([4, 5, 6], 31, -2, 2);
cases('reduce', [
  ['Sum axes [0,2] keepDims', () => tf.sum(r(), [0, 2], true)],
  ['Sum all', () => tf.sum(r())],
  ['Sum over leading axes (bias gradient) keepDims', () => tf.sum(uniform([8, 6, 5, 7], 30), [0, 1, 2], true)],
  ['Sum int32', () => tf.sum(ints([4, 5], 32, -9, 9), 1)],
  ['Mean', () => tf.mean(r(), 1)],
  ['Max', () => tf.max(r(), [1, 2])],
  ['Min', () => tf.min(r(), 0, true)],
  ['Prod', () => tf.prod(uniform([4, 5], 33, 0.5, 1.5), 1)],
  ['Any', () => tf.any(bools([4, 5], 34), 1)],
  ['All', () => tf.all(bools([4, 5], 35), 0)],
  ['ArgMax', () => tf.argMax(r(), 2)],
  ['ArgMin', () => tf.argMin(r(), 0)],
  ['Softmax', () => tf.softmax(r())],
], SUM_TOL);

cases('shape and indexing', [
  ['Identity', () => tf.clone(r())],
  ['Cast float32->int32 (truncation)', () => tf.cast(tf.mul(r(), 3), 'int32')],
  ['Cast int32->float32', () => tf.cast(i34(), 'float32')],
  ['Cast float32->bool', () => tf.cast(tf.round(r()), 'bool')],
  ['AddN', () => tf.addN([r(), r(), uniform([4, 5, 6], 36)])],
  ['Select', () => tf.where(bools([4, 5, 6], 37), r(), uniform([4, 5, 6], 38))],
  ['Reshape', () => tf.reshape(r(), [20, -1])],
  ['Reshape of a transposed view', () => tf.reshape(tf.transpose(r(), [2, 0, 1]), [6, 20])],
  ['Transpose', () => tf.transpose(r(), [1, 2, 0])],
  ['Slice', () => tf.slice(r(), [1, 0, 2], [2, -1, 3])],
  ['StridedSlice', () => tf.stridedSlice(r(), [0, 1, 0], [4, 5, 6], [2, 2, 3])],
  ['StridedSlice masks', () => tf.stridedSlice(r(), [1, 0, 0], [3, 0, 4], [1, 1, 1], 0, 2, 0, 0, 1)],
  ['StridedSlice negative stride (cpu fallback)', () => tf.stridedSlice(r(), [3, 0, 0], [0, 5, 6], [-1, 1, 2])],
  ['Concat', () => tf.concat([r(), uniform([4, 2, 6], 40), uniform([4, 1, 6], 41)], 1)],
  ['Pack', () => tf.stack([i34(), j34()], 1)],
  ['Unpack', () => tf.unstack(r(), 1)],
  ['PadV2', () => tf.pad(r(), [[0, 1], [2, 0], [1, 1]], 0.5)],
  ['Tile', () => tf.tile(i34(), [2, 3])],
  ['Reverse', () => tf.reverse(r(), [0, 2])],
  ['GatherV2', () => tf.gather(r(), ints([7], 42, 0, 5), 1)],
  ['OneHot (with out-of-range indices)', () => tf.oneHot(tf.tensor1d([0, 3, 6, -1, 7], 'int32'), 7, 2, -1)],
  ['Fill', () => tf.fill([3, 2], 0.1)],
  ['ZerosLike', () => tf.zerosLike(i34())],
  ['OnesLike', () => tf.onesLike(r())],
]);

cases('matmul', [
  ['BatchMatMul', () => tf.matMul(uniform([1, 6, 7], 51), uniform([1, 7, 5], 52))],
  ['BatchMatMul transposeA', () => tf.matMul(uniform([1, 7, 6], 51), uniform([1, 7, 5], 52), true, false)],
  ['BatchMatMul transposeB', () => tf.matMul(uniform([1, 6, 7], 51), uniform([1, 5, 7], 52), false, true)],
  ['BatchMatMul batched, broadcast', () => tf.matMul(uniform([3, 6, 7], 53), uniform([1, 7, 5], 54))],
  ['_FusedMatMul bias relu (dense layer)', () => tf.fused.matMul({ a: uniform([8, 64], 55), b: uniform([64, 32], 56), bias: uniform([32], 57), activation: 'relu' })],
  ['_FusedMatMul leakyrelu transposeB', () =>
    tf.fused.matMul({ a: uniform([8, 64], 55), b: uniform([32, 64], 56), transposeB: true, bias: uniform([32], 57), activation: 'leakyrelu', leakyreluAlpha: 0.3 })],
  ['4608 -> 1024 dense at batch 16', () => tf.matMul(uniform([16, 4608], 58), uniform([4608, 1024], 59, -0.03, 0.03))],
], SUM_TOL);

type ConvCase = { x: number[]; w: number[]; stride: number; pad: 'same' | 'valid' };
const convCases: Record<string, ConvCase> = {
  'conv1 5x5 1->64 same': { x: [2, 48, 48, 1], w: [5, 5, 1, 64], stride: 1, pad: 'same' },
  'conv2 3x3 64->64 same': { x: [2, 24, 24, 64], w: [3, 3, 64, 64], stride: 1, pad: 'same' },
  'conv5 3x3 128->128 same': { x: [2, 12, 12, 128], w: [3, 3, 128, 128], stride: 1, pad: 'same' },
  '3x3 16->8 valid': { x: [2, 12, 12, 16], w: [3, 3, 16, 8], stride: 1, pad: 'valid' },
  '3x3 8->16 stride 2 same (asymmetric padding)': { x: [2, 12, 12, 8], w: [3, 3, 8, 16], stride: 2, pad: 'same' },
  '4x4 3->5 same (asymmetric padding)': { x: [2, 9, 9, 3], w: [4, 4, 3, 5], stride: 1, pad: 'same' },
};
for (const [name, c] of Object.entries(convCases)) {
  const x = () => uniform(c.x, 61) as tf.Tensor4D;
  const w = () => uniform(c.w, 62, -0.2, 0.2) as tf.Tensor4D;
  const outShape = tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number], c.w as [number, number, number, number], c.stride, 1, c.pad).outShape;
  const dy = () => uniform(outShape, 63);
  cases('conv', [
    [`Conv2D ${name}`, () => tf.conv2d(x(), w(), c.stride, c.pad)],
    [`FusedConv2D bias relu ${name}`, () => tf.fused.conv2d({ x: x(), filter: w(), strides: c.stride, pad: c.pad, bias: uniform([c.w[3]!], 64), activation: 'relu' })],
    // dX (Conv2DBackpropInput) and dW (Conv2DBackpropFilter) through the gradient.
    [`Conv2D gradients ${name}`, () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dy())))([x(), w()])],
  ], CONV_TOL);
}

type PoolCase = { x: number[]; size: number; stride: number; pad: 'same' | 'valid' };
const poolCases: Record<string, PoolCase> = {
  '3x3/2 same 48 -> 24 (ceil mode)': { x: [2, 48, 48, 8], size: 3, stride: 2, pad: 'same' },
  '3x3/2 same 13 -> 7 (symmetric padding)': { x: [2, 13, 13, 4], size: 3, stride: 2, pad: 'same' },
  '3x3/1 same': { x: [2, 7, 7, 4], size: 3, stride: 1, pad: 'same' },
  '2x2/2 valid': { x: [2, 9, 9, 4], size: 2, stride: 2, pad: 'valid' },
  '4x4/3 same (explicit -inf padding)': { x: [1, 11, 11, 3], size: 4, stride: 3, pad: 'same' },
};
for (const [name, c] of Object.entries(poolCases)) {
  // Signed inputs: windows that are entirely negative must still route the gradient right.
  const x = () => uniform(c.x, 71, -2, 1) as tf.Tensor4D;
  cases('pool', [
    [`MaxPool ${name}`, () => tf.maxPool(x(), c.size, c.stride, c.pad)],
    [`MaxPoolGrad ${name}`, () => {
      const v = x();
      const y = tf.maxPool(v, c.size, c.stride, c.pad);
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.size, c.stride, c.pad), uniform(y.shape, 72))))(v);
    }],
  ]);
}

cases('gradients the network takes', [
  ['relu and broadcast bias add (Step, Sum over N,H,W)', () =>
    tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.relu(tf.add(a, b)), uniform([2, 5, 5, 6], 81))))([uniform([2, 5, 5, 6], 82), uniform([6], 83)])],
  ['dense with transposed matMul gradients', () =>
    tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), uniform([8, 16], 84))))([uniform([8, 32], 85), uniform([32, 16], 86)])],
  ['softmax cross-entropy (tf.losses)', () => {
    const labels = tf.oneHot(ints([8], 87, 0, 7) as tf.Tensor1D, 7);
    return tf.grad((l: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, l))(uniform([8, 7], 88, -4, 4));
  }],
  ['categorical cross-entropy as tfjs-layers computes it (clip, log)', () => {
    const labels = tf.oneHot(ints([8], 89, 0, 7) as tf.Tensor1D, 7);
    return tf.grad((l: tf.Tensor) => {
      const p = tf.softmax(l);
      return tf.mean(tf.neg(tf.sum(tf.mul(labels, tf.log(tf.clipByValue(tf.div(p, tf.sum(p, -1, true)), 1e-7, 1 - 1e-7))), -1)));
    })(uniform([8, 7], 90, -4, 4));
  }],
  ['dropout with a seed', () => tf.grad((a: tf.Tensor) => tf.sum(tf.dropout(a, 0.5, undefined, 7)))(uniform([16, 32], 91))],
], SUM_TOL);

test('every native kernel was exercised on torch, and none of them fell back to cpu', { skip }, () => {
  const status = loadAddon();
  assert.ok(status.ok);
  const native = Object.keys(buildKernels(status.addon));
  // Exercised by stochastic-pool.test.ts and network.test.ts.
  const elsewhere = new Set(['StochasticPool2D', 'StochasticPool2DGrad']);
  const missing = native.filter((k) => !seen.has(k) && !elsewhere.has(k));
  assert.deepEqual(missing, [], `native kernels without a conformance case: ${missing.join(', ')}`);
  // Negative strides are the one case deliberately left to the cpu fallback above.
  assert.deepEqual(fallbacksUsed().filter((k) => native.includes(k) && k !== 'StridedSlice'), []);
});
