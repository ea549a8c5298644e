/**
 * Every replacement wasm kernel against the cpu backend on the same random inputs: the
 * kernel called directly, and the gradients that reach it through tf.grads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
// The tfjs-core node bundle registers no gradient functions; tfjs-layers registers them all.
import '@tensorflow/tfjs-layers';
import { registerWasmTrainingKernels } from '../../src/model/engine/wasm-kernels.js';
import { startWasmBackend } from '../../src/model/engine/wasm-threads.js';
import { normal, onBoth, randomTensor, relativeError } from './reference.js';

/** float32 sums of up to ~10^4 products, in a different order on each backend. */
const CONV_TOL = 1e-5;
const MATMUL_TOL = 1e-5;
const SUM_TOL = 1e-5;
/** Each dx element is a sum of at most a few dy values; a misrouted gradient is O(1). */
const POOL_TOL = 1e-6;

await startWasmBackend(2);

function expectClose(
  t: { diagnostic(message: string): void }, label: string,
  got: { wasm: Float32Array[]; cpu: Float32Array[] }, tol: number,
): void {
  got.wasm.forEach((w, i) => {
    const err = relativeError(w, got.cpu[i]!);
    t.diagnostic(`${label} [${i}]: max relative error ${err.toExponential(2)}`);
    assert.ok(err <= tol, `${label} output ${i}: relative error ${err} > ${tol}`);
  });
}

/** Signed values whose 3x3 windows include many that are all negative. */
function negativeShifted(shape: number[], seed: number): tf.Tensor {
  return tf.sub(randomTensor(shape, seed), 2);
}

const maxPoolLoss = (x: tf.Tensor4D, r: tf.Tensor, size: number, stride: number, pad: 'same' | 'valid') =>
  tf.sum(tf.mul(tf.maxPool(x, size, stride, pad), r));

test('stock wasm: Conv2DBackpropFilter is missing and MaxPoolGrad is wrong on all-negative windows', async (t) => {
  try {
    assert.equal(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm'), undefined);
    const got = await onBoth(() => {
      const x = negativeShifted([1, 9, 9, 2], 1) as tf.Tensor4D;
      const r = randomTensor([1, 5, 5, 2], 2);
      return [tf.grad((v: tf.Tensor) => maxPoolLoss(v as tf.Tensor4D, r, 3, 2, 'same'))(x)];
    });
    const err = relativeError(got.wasm[0]!, got.cpu[0]!);
    t.diagnostic(`stock MaxPoolGrad relative error ${err.toExponential(2)}`);
    assert.ok(err > 0.1, 'the stock MaxPoolGrad now agrees with cpu; its replacement may be unnecessary');
  } finally {
    registerWasmTrainingKernels();
  }
});

const convCases = [
  { name: 'conv1-like 5x5 1->64 same (im2col dW)', x: [2, 48, 48, 1], w: [5, 5, 1, 64], stride: 1, pad: 'same' },
  { name: 'conv2-like 3x3 64->64 same (tconv dW, dX as conv)', x: [2, 24, 24, 64], w: [3, 3, 64, 64], stride: 1, pad: 'same' },
  { name: '3x3 16->8 valid (tconv dW, dX padded by k-1)', x: [2, 12, 12, 16], w: [3, 3, 16, 8], stride: 1, pad: 'valid' },
  { name: '3x3 8->16 stride 2 same (strided im2col, stock dX)', x: [2, 13, 13, 8], w: [3, 3, 8, 16], stride: 2, pad: 'same' },
  { name: '3x3 3->4 stride 2 valid, last row unused (stock dX)', x: [2, 14, 14, 3], w: [3, 3, 3, 4], stride: 2, pad: 'valid' },
] as const;

for (const c of convCases) {
  test(`conv ${c.name}: forward, dX and dW match cpu`, async (t) => {
    const got = await onBoth(() => {
      const x = randomTensor([...c.x], 10) as tf.Tensor4D;
      const w = tf.mul(randomTensor([...c.w], 11), 0.1) as tf.Tensor4D;
      const y = tf.conv2d(x, w, c.stride, c.pad);
      const r = randomTensor(y.shape, 12);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), r)))([x, w]);
      return [y, dx!, dw!];
    });
    expectClose(t, c.name, got, CONV_TOL);
  });
}

test('Conv2DBackpropFilter and Conv2DBackpropInput called directly match cpu', async (t) => {
  const got = await onBoth(() => {
    const x = randomTensor([2, 10, 10, 8], 20);
    const dy = randomTensor([2, 10, 10, 6], 21);
    const w = randomTensor([3, 3, 8, 6], 22);
    const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy },
      { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 6] }) as tf.Tensor;
    const dx = tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: w },
      { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 10, 10, 8] }) as tf.Tensor;
    return [dw, dx];
  });
  expectClose(t, 'direct conv backprop', got, CONV_TOL);
});

test('BatchMatMul with every transpose combination, 2-D and batched, matches cpu', async (t) => {
  const got = await onBoth(() => {
    const outs: tf.Tensor[] = [];
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a2 = randomTensor(ta ? [33, 17] : [17, 33], 30);
      const b2 = randomTensor(tb ? [9, 33] : [33, 9], 31);
      outs.push(tf.matMul(a2, b2, ta, tb));
      const a3 = randomTensor(ta ? [3, 33, 17] : [3, 17, 33], 32);
      const b3 = randomTensor(tb ? [3, 9, 33] : [3, 33, 9], 33);
      outs.push(tf.matMul(a3, b3, ta, tb));
    }
    return outs;
  });
  expectClose(t, 'matMul', got, MATMUL_TOL);
});

test('dense-layer gradients (transposed matMuls) match cpu', async (t) => {
  const got = await onBoth(() => {
    const a = randomTensor([16, 200], 40);
    const w = randomTensor([200, 64], 41);
    const r = randomTensor([16, 64], 42);
    const [da, dw] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p, q), r)))([a, w]);
    return [da!, dw!];
  });
  expectClose(t, 'dense grads', got, MATMUL_TOL);
});

const poolCases = [
  { name: '3x3/2 same, 48->24, ReLU output (fast route, zero ties)', x: [2, 48, 48, 3], size: 3, stride: 2, pad: 'same',
    make: (shape: number[], seed: number) => tf.relu(randomTensor(shape, seed)) },
  { name: '3x3/2 same, ReLU output scaled to 1e-38 (fast route, subnormals)', x: [2, 13, 13, 4], size: 3, stride: 2, pad: 'same',
    make: (shape: number[], seed: number) => tf.mul(tf.relu(randomTensor(shape, seed)), 1e-38) },
  { name: '3x3/2 same, ReLU output above 2^27 (general route)', x: [2, 13, 13, 4], size: 3, stride: 2, pad: 'same',
    make: (shape: number[], seed: number) => tf.mul(tf.relu(randomTensor(shape, seed)), 1e9) },
  { name: '3x3/2 same, signed', x: [2, 13, 13, 4], size: 3, stride: 2, pad: 'same', make: randomTensor },
  { name: '3x3/2 same, 48->24, mostly negative', x: [2, 48, 48, 3], size: 3, stride: 2, pad: 'same', make: negativeShifted },
  { name: '3x3/2 valid, signed, last row unused', x: [2, 12, 12, 5], size: 3, stride: 2, pad: 'valid', make: randomTensor },
  { name: '3x3/1 same, signed', x: [2, 7, 7, 3], size: 3, stride: 1, pad: 'same', make: randomTensor },
  { name: '2x2/2 valid, ties everywhere', x: [2, 8, 8, 3], size: 2, stride: 2, pad: 'valid',
    make: (shape: number[], seed: number) => tf.round(tf.mul(randomTensor(shape, seed), 0.7)) },
] as const;

for (const c of poolCases) {
  test(`MaxPoolGrad ${c.name}: matches cpu exactly up to summation order`, async (t) => {
    const got = await onBoth(() => {
      const x = c.make([...c.x], 50) as tf.Tensor4D;
      const y = tf.maxPool(x, c.size, c.stride, c.pad);
      const r = randomTensor(y.shape, 51);
      return [tf.grad((v: tf.Tensor) => maxPoolLoss(v as tf.Tensor4D, r, c.size, c.stride, c.pad))(x)];
    });
    expectClose(t, `maxPoolGrad ${c.name}`, got, POOL_TOL);
  });
}

/** Names of the kernels that `f` runs, nested ones included (its inputs are built outside). */
async function kernelsRun(f: () => tf.Tensor): Promise<Set<string>> {
  const info = await tf.profile(() => tf.tidy(f));
  return new Set(info.kernels.map((k) => k.name));
}

test('each case takes the intended route', async () => {
  const run = (name: string, inputs: tf.NamedTensorMap, attrs: object) => () =>
    tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
  const pool = (x: tf.Tensor4D) => {
    const y = tf.maxPool(x, 3, 2, 'same');
    return run(tf.MaxPoolGrad, { dy: tf.onesLike(y), input: x, output: y }, { filterSize: 3, strides: 2, pad: 'same' });
  };
  assert.ok((await kernelsRun(pool(tf.relu(randomTensor([1, 8, 8, 4], 80)) as tf.Tensor4D))).has('MaxPoolWithArgmax'),
    'ReLU output: fast route');
  assert.ok(!(await kernelsRun(pool(randomTensor([1, 8, 8, 4], 81) as tf.Tensor4D))).has('MaxPoolWithArgmax'),
    'signed: general route');

  const dw = (stride: number) => {
    const x = randomTensor([2, 8, 8, 8], 82);
    const dy = randomTensor([2, 8 / stride, 8 / stride, 4], 83);
    return run(tf.Conv2DBackpropFilter, { x, dy }, { strides: stride, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 4] });
  };
  const tconv = await kernelsRun(dw(1));
  assert.ok(tconv.has('Conv2D') && !tconv.has('BatchMatMul'), 'Cin 8, stride 1: dW by transposed convolution');
  const im2col = await kernelsRun(dw(2));
  assert.ok(im2col.has('BatchMatMul') && !im2col.has('Conv2D'), 'stride 2: dW by im2col');

  const dx = (stride: number) => {
    const dy = randomTensor([2, 8 / stride, 8 / stride, 4], 84);
    const filter = randomTensor([3, 3, 4, 4], 85);
    return run(tf.Conv2DBackpropInput, { dy, filter }, { strides: stride, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 8, 8, 4] });
  };
  assert.ok((await kernelsRun(dx(1))).has('Conv2D'), 'stride 1: dX as a convolution');
  assert.ok(!(await kernelsRun(dx(2))).has('Conv2D'), 'stride 2: stock dX');

  const a = randomTensor([4, 6], 86);
  assert.ok((await kernelsRun(() => tf.matMul(a, a, true, false))).has('Transpose'), 'transposed matMul: explicit Transpose');
  assert.ok((await kernelsRun(() => tf.sum(randomTensor([2, 4, 4, 3], 87), [0, 1, 2]))).has('AvgPool'),
    'sum over N,H,W through average pooling');
});

test('Sum over N,H,W (keepDims on and off), other axes, and the conv bias gradient match cpu', async (t) => {
  const got = await onBoth(() => {
    const x = randomTensor([4, 7, 6, 8], 60);
    const bias = randomTensor([8], 61);
    const r = randomTensor([4, 7, 6, 8], 62);
    const dBias = tf.grad((b: tf.Tensor) => tf.sum(tf.mul(tf.add(x, b), r)))(bias);
    return [tf.sum(x, [0, 1, 2]), tf.sum(x, [-2, -4, -3], true), tf.sum(x, [1, 2]), tf.sum(x), dBias];
  });
  expectClose(t, 'sum', got, SUM_TOL);
});

test('no tensors or wasm buffers leak over repeated kernel calls, and outputs stay alive', () => {
  const backend = tf.engine().backend;
  const x = tf.tensor4d(normal(2 * 12 * 12 * 16, 70), [2, 12, 12, 16]);
  const w = tf.tensor4d(normal(3 * 3 * 16 * 16, 71), [3, 3, 16, 16]);
  const x1 = tf.tensor4d(normal(2 * 12 * 12, 72), [2, 12, 12, 1]);
  const w1 = tf.tensor4d(normal(5 * 5 * 16, 73), [5, 5, 1, 16]);
  const a = tf.tensor2d(normal(8 * 40, 74), [8, 40]);
  const m = tf.tensor2d(normal(40 * 10, 75), [40, 10]);
  const step = () => tf.tidy(() => {
    const conv = tf.grads((p: tf.Tensor, q: tf.Tensor) => {
      const act = tf.relu(tf.add(tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'same'), tf.scalar(0.1)));
      return tf.sum(tf.maxPool(act as tf.Tensor4D, 3, 2, 'same'));
    })([x, w]);
    const conv1 = tf.grad((q: tf.Tensor) => tf.sum(tf.conv2d(x1, q as tf.Tensor4D, 2, 'same')))(w1);
    const dense = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.matMul(p, q)))([a, m]);
    return tf.stack([tf.sum(conv[0]!), tf.sum(conv[1]!), tf.sum(conv1), tf.sum(dense[0]!), tf.sum(dense[1]!), tf.sum(tf.sum(x, [0, 1, 2]))]);
  });
  tf.dispose(step());
  const tensorsBefore = tf.memory().numTensors;
  const buffersBefore = backend.numDataIds();
  const first = step();
  for (let i = 0; i < 4; i++) tf.dispose(step());
  const last = step();
  assert.equal(tf.memory().numTensors, tensorsBefore + 2, 'only the two kept outputs remain');
  assert.equal(backend.numDataIds(), buffersBefore + 2);
  assert.deepEqual(Array.from(last.dataSync()), Array.from(first.dataSync()), 'outputs are readable and repeatable');
  tf.dispose([first, last, x, w, x1, w1, a, m]);
});
