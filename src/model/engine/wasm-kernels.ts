/**
 * Training kernels for tfjs-backend-wasm 4.22. The stock backend lacks Conv2DBackpropFilter
 * and runs several other backward kernels as scalar C++ loops (10-20x slower than XNNPACK),
 * and its MaxPoolGrad starts each window maximum at +FLT_MIN, which misroutes the gradient of
 * windows whose values are all <= 0. Each kernel here rewrites the work as ordinary tf ops,
 * chosen so that the heavy part reaches XNNPACK (conv2d, untransposed matMul, avgPool,
 * broadcasting add/mul). Measurements and the reasoning behind each choice:
 * shared/docs/engines-measured.md.
 *
 * Ops run inside a kernel are not recorded on the gradient tape, so these kernels need no
 * gradients of their own. Stock kernels stay in use for the cases not rewritten here.
 */
import * as tf from '@tensorflow/tfjs-core';

type Tensors = Record<string, tf.Tensor>;
type OpsBody = (inputs: Tensors, attrs: tf.NamedAttrMap) => tf.Tensor;
type Route = (inputs: Tensors, attrs: tf.NamedAttrMap) => OpsBody | null;

/** Below this many input channels the transposed-convolution dW trick loses to im2col. */
const TCONV_MIN_IN_CHANNELS = 8;

let registered = false;

/**
 * Registers the kernels for backend 'wasm'. Call after the wasm backend has started: the
 * stock kernels that remain in use for other cases must have run their setup by then.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  if (tf.engine().registry['wasm'] == null) {
    throw new Error('registerWasmTrainingKernels: start the wasm backend first');
  }
  replaceKernel(tf.Conv2DBackpropFilter, () => conv2dBackpropFilter);
  replaceKernel(tf.Conv2DBackpropInput, conv2dBackpropInputRoute);
  replaceKernel(tf.BatchMatMul, batchMatMulRoute);
  replaceKernel(tf.MaxPoolGrad, () => maxPoolGrad);
  replaceKernel(tf.Sum, sumRoute);
  registered = true;
}

/**
 * `route` picks an ops body for the inputs, or null to hand them to the stock kernel (which
 * must then exist). The stock setup/dispose functions are carried over so that the stock
 * kernelFunc keeps working if the backend is set up again.
 */
function replaceKernel(kernelName: string, route: Route): void {
  const stock = tf.getKernel(kernelName, 'wasm');
  if (stock != null) tf.unregisterKernel(kernelName, 'wasm');
  const kernelFunc: tf.KernelFunc = (params) => {
    const inputs = params.inputs as Record<string, tf.TensorInfo>;
    const backend = params.backend as tf.KernelBackend;
    const attrs = params.attrs ?? {};
    const tensors = aliasInputs(inputs, backend);
    const body = route(tensors, attrs);
    if (body == null) {
      tf.dispose(Object.values(tensors));
      if (stock == null) throw new Error(`no wasm kernel for this ${kernelName} case`);
      return stock.kernelFunc(params);
    }
    const out = tf.tidy(() => {
      const result = body(tensors, attrs);
      tf.dispose(Object.values(tensors));
      return result;
    });
    // The engine wraps a returned TensorInfo in a new Tensor without taking a reference of
    // its own, so the reference held by `out` is handed over: one is taken for the caller,
    // then the Tensor made here is released (its data stays, with refCount 1).
    backend.incRef(out.dataId);
    out.dispose();
    return { dataId: out.dataId, shape: out.shape, dtype: out.dtype };
  };
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc,
    ...(stock?.setupFunc ? { setupFunc: stock.setupFunc } : {}),
    ...(stock?.disposeFunc ? { disposeFunc: stock.disposeFunc } : {}),
  });
}

/**
 * Kernel inputs are TensorInfos (plain data ids). Each becomes a Tensor that shares the data
 * and holds its own reference, so disposing it never frees the caller's tensor.
 */
function aliasInputs(inputs: Record<string, tf.TensorInfo>, backend: tf.KernelBackend): Tensors {
  const out: Tensors = {};
  for (const [name, info] of Object.entries(inputs)) {
    backend.incRef(info.dataId);
    out[name] = tf.engine().makeTensorFromTensorInfo(info, backend);
  }
  return out;
}

/**
 * Windows of a pooling or convolution over x [N,H,W,C], laid out so that every tap is a plain
 * slice: wasm's StridedSlice is a scalar loop about 4x slower than Slice. x is padded (or
 * cropped) to hq*sh rows and wq*sw columns, which are then split as (block, phase); tap
 * (i, j) of window (a, b) is element (a + i div sh, i mod sh, b + j div sw, j mod sw).
 */
class Windows {
  readonly hq: number;
  readonly wq: number;
  /** x padded with padValue to [N, hq*sh, wq*sw, C]. */
  readonly padded: tf.Tensor4D;
  private readonly rowTaps = new Map<number, tf.Tensor4D>();

  constructor(x: tf.Tensor4D, readonly info: tf.backend_util.Conv2DInfo, padValue = 0) {
    const { outHeight, outWidth, strideHeight: sh, strideWidth: sw, filterHeight, filterWidth } = info;
    const [, h, w] = x.shape;
    this.hq = outHeight + Math.floor((filterHeight - 1) / sh);
    this.wq = outWidth + Math.floor((filterWidth - 1) / sw);
    const { top, left } = info.padInfo;
    const bottom = this.hq * sh - h - top;
    const right = this.wq * sw - w - left;
    let padded = x;
    if (top > 0 || left > 0 || bottom > 0 || right > 0) {
      padded = tf.pad(padded, [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]], padValue);
    }
    if (bottom < 0 || right < 0) padded = tf.slice(padded, [0, 0, 0, 0], [-1, this.hq * sh, this.wq * sw, -1]);
    this.padded = padded;
  }

  /** Tap (i, j) of every window, [N,Ho,Wo,C]. */
  tap(i: number, j: number): tf.Tensor4D {
    const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = this.info;
    const [n, , , c] = this.padded.shape;
    if (sh === 1 && sw === 1) return contiguousSlice(this.padded, [0, i, j, 0], [n, ho, wo, c]) as tf.Tensor4D;
    let rows = this.rowTaps.get(i);
    if (rows == null) {
      const grid = tf.reshape(this.padded, [n, this.hq, sh, this.wq * sw * c]);
      const picked = contiguousSlice(grid, [0, Math.floor(i / sh), i % sh, 0], [n, ho, 1, this.wq * sw * c]);
      rows = tf.reshape(picked, [n * ho, this.wq, sw, c]);
      this.rowTaps.set(i, rows);
    }
    const picked = contiguousSlice(rows, [0, Math.floor(j / sw), j % sw, 0], [n * ho, wo, 1, c]);
    return tf.reshape(picked, [n, ho, wo, c]);
  }
}

/**
 * tf.slice with every trailing axis that is taken whole merged into the one before it: the
 * wasm Slice kernel copies one innermost run at a time from JavaScript, so longer runs
 * make it many times faster.
 */
function contiguousSlice(t: tf.Tensor, begin: number[], size: number[]): tf.Tensor {
  const shape = [...t.shape];
  const b = [...begin];
  const sz = [...size];
  while (shape.length > 1 && b[shape.length - 1] === 0 && sz[shape.length - 1] === shape[shape.length - 1]) {
    const inner = shape.pop()!;
    b.pop();
    sz.pop();
    const last = shape.length - 1;
    shape[last] = shape[last]! * inner;
    b[last] = b[last]! * inner;
    sz[last] = sz[last]! * inner;
  }
  return tf.reshape(tf.slice(tf.reshape(t, shape), b, sz), size);
}

/** dW[kh,kw,ci,co] = sum over n,i,j of xpad[n, i*sh+kh, j*sw+kw, ci] * dy[n,i,j,co]. */
function conv2dBackpropFilter(inputs: Tensors, attrs: tf.NamedAttrMap): tf.Tensor {
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (a.dataFormat === 'NCHW') throw new Error('wasm Conv2DBackpropFilter supports NHWC only');
  const x = inputs['x'] as tf.Tensor4D;
  const dy = inputs['dy'] as tf.Tensor4D;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode);
  const [kh, kw, cin, cout] = a.filterShape;
  const [n, h, w] = x.shape;
  const { outHeight: ho, outWidth: wo } = info;

  if (cin >= TCONV_MIN_IN_CHANNELS && info.strideHeight === 1 && info.strideWidth === 1) {
    // x as a batch of cin images with N channels [cin,Hp,Wp,N], dy as the filter
    // [Ho,Wo,N,cout]: one "valid" convolution yields [cin,kh,kw,cout].
    const images = tf.transpose(new Windows(x, info).padded, [3, 1, 2, 0]);
    const filter = tf.transpose(dy, [1, 2, 0, 3]);
    return tf.transpose(tf.conv2d(images, filter, 1, 'valid'), [1, 2, 0, 3]);
  }

  // im2col with the long N*Ho*Wo axis inner, so that the one matMul is untransposed: each
  // input channel of each image becomes a one-channel image, and each tap a row block.
  const planes = tf.reshape(tf.transpose(x, [3, 0, 1, 2]), [cin * n, h, w, 1]) as tf.Tensor4D;
  const windows = new Windows(planes, info);
  const cols: tf.Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) cols.push(tf.reshape(windows.tap(i, j), [cin, n * ho * wo]));
  }
  const dw = tf.matMul(tf.concat(cols, 0), tf.reshape(dy, [n * ho * wo, cout]));
  return tf.reshape(dw, [kh, kw, cin, cout]);
}

/**
 * Stride 1: dx is the convolution of dy with the spatially flipped filter, in/out channels
 * swapped, padded by k-1-pad. Other cases keep the stock kernel.
 */
function conv2dBackpropInputRoute(inputs: Tensors, attrs: tf.NamedAttrMap): OpsBody | null {
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const filter = inputs['filter'] as tf.Tensor4D;
  const dy = inputs['dy'] as tf.Tensor4D;
  if (a.dataFormat === 'NCHW') return null;
  const info = tf.backend_util.computeConv2DInfo(
    a.inputShape, filter.shape, a.strides, 1, a.pad, a.dimRoundingMode);
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return null;
  const [kh, kw] = filter.shape;
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  const bottom = a.inputShape[1] - dy.shape[1] + kh - 1 - top;
  const right = a.inputShape[2] - dy.shape[2] + kw - 1 - left;
  if (Math.min(top, left, bottom, right) < 0) return null;
  return () => {
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(dy, flipped, 1, [[0, 0], [top, bottom], [left, right], [0, 0]]);
  };
}

/**
 * Only the untransposed case reaches XNNPACK, so transposes are made explicit and the product
 * re-enters this kernel untransposed, which goes to the stock kernel. Of op(A)op(B) and
 * (op(B)^T op(A)^T)^T, the form that moves fewer elements is used: for the dense layers'
 * dy W^T that means transposing dy and the product instead of the large weight matrix.
 */
function batchMatMulRoute(inputs: Tensors, attrs: tf.NamedAttrMap): OpsBody | null {
  const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
  if (!transposeA && !transposeB) return null;
  const a = inputs['a']!;
  const b = inputs['b']!;
  const outSize = (a.size / a.shape[a.rank - 1]! / a.shape[a.rank - 2]!)
    * a.shape[transposeA ? a.rank - 1 : a.rank - 2]! * b.shape[transposeB ? b.rank - 2 : b.rank - 1]!;
  const direct = (transposeA ? a.size : 0) + (transposeB ? b.size : 0);
  const swapped = (transposeA ? 0 : a.size) + (transposeB ? 0 : b.size) + outSize;
  if (direct <= swapped) {
    return () => tf.matMul(transposeA ? swapLastTwo(a) : a, transposeB ? swapLastTwo(b) : b);
  }
  return () => swapLastTwo(tf.matMul(transposeB ? b : swapLastTwo(b), transposeA ? a : swapLastTwo(a)));
}

function swapLastTwo(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  perm[t.rank - 2] = t.rank - 1;
  perm[t.rank - 1] = t.rank - 2;
  return tf.transpose(t, perm);
}

/** +FLT_MIN: the stock MaxPoolWithArgmax only lets values above it win a window. */
const FLT_MIN = 2 ** -126;
/** The smallest subnormal float: the step between consecutive floats just above FLT_MIN. */
const SUBNORMAL_STEP = 2 ** -149;
/** The fast route scales x by 2^SCALE_EXP, which is exact while the result stays finite. */
const SCALE_EXP = 100;

/**
 * Max-pool gradient: each window's dy goes to its maximum, the first one in row-major scan
 * order as on the cpu backend, with one exception on the fast route noted below.
 *
 * The fast route (stock argmax pool, then ScatterNd) serves finite non-negative inputs below
 * 2^27, which includes ReLU outputs. The stock kernel starts every window at +FLT_MIN and
 * keeps the last of equal values. So x is scaled by 2^100 (exact, and every positive value
 * lands at or above 2^-49), then a per-position ramp just above FLT_MIN that decreases along
 * the scan is added: zeros become distinct values so that the first of them wins, while every
 * positive value is left exactly as it was (the ramp is below half its ulp). Equal positive
 * maxima (rare: exact float ties) still go to the last of them; either is a valid
 * subgradient. Other inputs take the general route.
 */
function maxPoolGrad(inputs: Tensors, attrs: tf.NamedAttrMap): tf.Tensor {
  const a = attrs as unknown as tf.MaxPoolGradAttrs;
  const x = inputs['input'] as tf.Tensor4D;
  const dy = inputs['dy'] as tf.Tensor4D;
  const y = inputs['output'] as tf.Tensor4D;
  const pad = a.pad;
  const [, h, w] = x.shape;
  if (!Array.isArray(pad) && a.dimRoundingMode == null && h * w < 2 ** 22 && fitsFastRoute(x)) {
    // FLT_MIN + (H*W - scan position) steps: distinct, exact, above FLT_MIN, below 2^-125.
    const fromEnd = tf.sub(tf.scalar(h * w), tf.range(0, h * w));
    const ramp = tf.reshape(tf.add(tf.mul(fromEnd, SUBNORMAL_STEP), FLT_MIN), [1, h, w, 1]);
    // Add and Mul broadcast through XNNPACK; Maximum would take a scalar loop.
    const keys = tf.add(tf.mul(x, 2 ** SCALE_EXP), ramp) as tf.Tensor4D;
    const { indexes } = tf.maxPoolWithArgmax(keys, a.filterSize, a.strides, pad, true);
    return tf.reshape(tf.scatterND(tf.reshape(indexes, [-1, 1]), tf.reshape(dy, [-1]), [x.size]), x.shape);
  }
  const info = tf.backend_util.computePool2DInfo(x.shape, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  return exactMaxPoolGrad(x, dy, y, info);
}

/** 0 <= x < 2^(127 - SCALE_EXP) everywhere (false for NaN). */
function fitsFastRoute(x: tf.Tensor): boolean {
  const [lowest, highest] = tf.tidy(() => tf.stack([tf.min(x), tf.max(x)]).dataSync());
  return lowest! >= 0 && highest! < 2 ** (127 - SCALE_EXP);
}

/**
 * The general route, float ops only (wasm's int32 broadcasting ops are scalar loops): the
 * number of each window's first maximal tap is found by comparing taps with the forward
 * output from last to first. Each tap's share of dy then lands on the sub-grid of its phase
 * (i mod sh, j mod sw), shifted by its block offset, and the sh*sw sub-grids are interleaved
 * back into rows and columns.
 */
function exactMaxPoolGrad(x: tf.Tensor4D, dy: tf.Tensor4D, y: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor {
  const windows = new Windows(x, info, -Infinity);
  const { hq, wq } = windows;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo } = info;
  const { top, left } = info.padInfo;
  const [n, h, w, c] = x.shape;

  // Any start value: some tap of every window equals its maximum.
  let first: tf.Tensor = tf.zeros(y.shape);
  for (let t = fh * fw - 1; t >= 0; t--) {
    const isMax = tf.equal(windows.tap(Math.floor(t / fw), t % fw), y);
    first = tf.where(isMax, tf.fill(y.shape, t), first);
  }

  const phases: tf.Tensor[] = [];
  for (let t = 0; t < fh * fw; t++) {
    const i = Math.floor(t / fw);
    const j = t % fw;
    const share = tf.mul(dy, tf.cast(tf.equal(first, t), 'float32'));
    const di = Math.floor(i / sh);
    const dj = Math.floor(j / sw);
    const placed = tf.pad(share, [[0, 0], [di, hq - ho - di], [dj, wq - wo - dj], [0, 0]]);
    const p = (i % sh) * sw + (j % sw);
    phases[p] = phases[p] == null ? placed : tf.add(phases[p]!, placed);
  }
  const untouched = tf.zeros([n, hq, wq, c]);
  const rows: tf.Tensor[] = [];
  for (let pi = 0; pi < sh; pi++) {
    const cols = Array.from({ length: sw }, (_, pj) => phases[pi * sw + pj] ?? untouched);
    rows.push(tf.stack(cols, 3));
  }
  let grid = tf.reshape(tf.stack(rows, 2), [n, hq * sh, wq * sw, c]);
  // Rows or columns that no window reads were cropped by Windows; their gradient is zero.
  const missingRows = Math.max(top + h - hq * sh, 0);
  const missingCols = Math.max(left + w - wq * sw, 0);
  if (missingRows > 0 || missingCols > 0) grid = tf.pad(grid, [[0, 0], [0, missingRows], [0, missingCols], [0, 0]]);
  return tf.slice(grid, [0, top, left, 0], [n, h, w, c]);
}

/**
 * The conv bias gradient, a float sum over N,H,W of [N,H,W,C]: the stock kernel transposes
 * the whole tensor first, while XNNPACK's average pool reduces H,W in place.
 */
function sumRoute(inputs: Tensors, attrs: tf.NamedAttrMap): OpsBody | null {
  const x = inputs['x']!;
  const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
  if (x.rank !== 4 || x.dtype !== 'float32') return null;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
  if (axes.join() !== '0,1,2') return null;
  return () => {
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const perImage = tf.reshape(tf.avgPool(x as tf.Tensor4D, [h, w], 1, 'valid'), [n, c]);
    const total = tf.mul(tf.sum(perImage, 0), h * w);
    return keepDims ? tf.reshape(total, [1, 1, 1, c]) : total;
  };
}
