/**
 * The torch backend's kernels: each maps a tfjs kernel onto one addon call. Geometry
 * (padding, output sizes, slice bounds) is worked out with tfjs' own helpers so that it
 * agrees with every other backend; the addon only executes.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TorchAddon } from './addon.js';
import type { TorchBackend } from './backend.js';
import { dtypeCode } from './backend.js';

type Inputs = tf.NamedTensorInfoMap;
type Attrs = Record<string, unknown>;
/** Returns undefined when a case is outside what the native kernel covers; the cpu fallback then runs. */
export type PartialTorchKernel = (args: { inputs: Inputs; attrs: Attrs; backend: TorchBackend }) => tf.TensorInfo | tf.TensorInfo[] | undefined;

const NOT_COVERED = undefined;

function input(inputs: Inputs, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t == null) throw new Error(`torch backend: missing input ${name}`);
  return t;
}

function inputList(inputs: Inputs): tf.TensorInfo[] {
  return Object.values(inputs) as tf.TensorInfo[];
}

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, elu: 3, leakyrelu: 4, sigmoid: 5, prelu: 6 };

function activationCode(name: unknown): number {
  const code = ACTIVATIONS[(name as string | undefined) ?? 'linear'];
  if (code == null) throw new Error(`torch backend: unknown fused activation ${String(name)}`);
  return code;
}

function pads(info: tf.backend_util.Conv2DInfo): number[] {
  const p = info.padInfo;
  return [p.top, p.bottom, p.left, p.right];
}

/** Every kernel with a native implementation, by tfjs kernel name. */
export function buildKernels(addon: TorchAddon): Record<string, PartialTorchKernel> {
  const k: Record<string, PartialTorchKernel> = {};

  for (const name of addon.unaryOps) {
    const code = addon.unaryOps.indexOf(name);
    k[name] = ({ inputs, attrs, backend: b }) => {
      const a = name === 'ClipByValue' ? (attrs['clipValueMin'] as number) : ((attrs['alpha'] as number | undefined) ?? 0);
      const bb = name === 'ClipByValue' ? (attrs['clipValueMax'] as number) : 0;
      return b.out(addon.unary(code, b.slot(input(inputs, 'x')), a, bb));
    };
  }
  for (const name of addon.binaryOps) {
    const code = addon.binaryOps.indexOf(name);
    const [first, second] = name === 'Prelu' ? ['x', 'alpha'] : ['a', 'b'];
    k[name] = ({ inputs, backend: b }) => b.out(addon.binary(code, b.slot(input(inputs, first!)), b.slot(input(inputs, second!))));
  }
  for (const name of addon.reduceOps) {
    const code = addon.reduceOps.indexOf(name);
    k[name] = ({ inputs, attrs, backend: b }) => {
      const x = input(inputs, 'x');
      const axisAttr = name === 'Max' ? attrs['reductionIndices'] : attrs['axis'];
      const axes = tf.util.parseAxisParam(axisAttr as number | number[], x.shape);
      return b.out(addon.reduce(code, b.slot(x), axes, attrs['keepDims'] === true));
    };
  }

  k['Identity'] = ({ inputs, backend: b }) => {
    const x = input(inputs, 'x');
    return b.out(addon.cast(b.slot(x), dtypeCode(x.dtype)));
  };
  k['Cast'] = ({ inputs, attrs, backend: b }) => {
    const dtype = attrs['dtype'] as tf.DataType;
    if (dtype === 'complex64' || dtype === 'string') return NOT_COVERED;
    return b.out(addon.cast(b.slot(input(inputs, 'x')), dtypeCode(dtype)));
  };
  k['AddN'] = ({ inputs, backend: b }) => b.out(addon.addN(inputList(inputs).map((x) => b.slot(x))));
  k['Select'] = ({ inputs, backend: b }) => b.out(addon.select(b.slot(input(inputs, 'condition')), b.slot(input(inputs, 't')), b.slot(input(inputs, 'e'))));
  k['Softmax'] = ({ inputs, attrs, backend: b }) => b.out(addon.softmax(b.slot(input(inputs, 'logits')), attrs['dim'] as number));

  k['Reshape'] = ({ inputs, attrs, backend: b }) => {
    const x = input(inputs, 'x');
    const shape = tf.util.inferFromImplicitShape(attrs['shape'] as number[], tf.util.sizeFromShape(x.shape));
    return b.out(addon.reshape(b.slot(x), shape));
  };
  k['Transpose'] = ({ inputs, attrs, backend: b }) => b.out(addon.transpose(b.slot(input(inputs, 'x')), attrs['perm'] as number[]));
  k['Slice'] = ({ inputs, attrs, backend: b }) => {
    const x = input(inputs, 'x');
    const [begin, size] = tf.slice_util.parseSliceParams(x, attrs['begin'] as number[], attrs['size'] as number[]);
    return b.out(addon.slice(b.slot(x), begin!, size!));
  };
  k['StridedSlice'] = ({ inputs, attrs, backend: b }) => {
    const x = input(inputs, 'x');
    const info = tf.slice_util.sliceInfo(
      x.shape,
      attrs['begin'] as number[],
      attrs['end'] as number[],
      attrs['strides'] as number[],
      attrs['beginMask'] as number,
      attrs['endMask'] as number,
      attrs['ellipsisMask'] as number,
      attrs['newAxisMask'] as number,
      attrs['shrinkAxisMask'] as number,
    );
    if (info.strides.some((st) => st < 0)) return NOT_COVERED;
    return b.out(addon.stridedSlice(b.slot(x), info.begin, info.end, info.strides, info.finalShape));
  };
  k['Concat'] = ({ inputs, attrs, backend: b }) => {
    const xs = inputList(inputs);
    const axis = tf.util.parseAxisParam(attrs['axis'] as number, xs[0]!.shape)[0]!;
    return b.out(addon.concat(xs.map((x) => b.slot(x)), axis));
  };
  k['Pack'] = ({ inputs, attrs, backend: b }) => {
    const xs = inputList(inputs);
    const axis = tf.util.parseAxisParam(attrs['axis'] as number, [...xs[0]!.shape, 1])[0]!;
    return b.out(addon.stack(xs.map((x) => b.slot(x)), axis));
  };
  k['Unpack'] = ({ inputs, attrs, backend: b }) => {
    const x = input(inputs, 'value');
    const axis = tf.util.parseAxisParam(attrs['axis'] as number, x.shape)[0]!;
    return b.outs(addon.unstack(b.slot(x), axis));
  };
  k['PadV2'] = ({ inputs, attrs, backend: b }) =>
    b.out(addon.pad(b.slot(input(inputs, 'x')), (attrs['paddings'] as [number, number][]).flat(), attrs['constantValue'] as number));
  k['Tile'] = ({ inputs, attrs, backend: b }) => b.out(addon.tile(b.slot(input(inputs, 'x')), attrs['reps'] as number[]));
  k['Reverse'] = ({ inputs, attrs, backend: b }) => {
    const x = input(inputs, 'x');
    return b.out(addon.reverse(b.slot(x), tf.util.parseAxisParam(attrs['dims'] as number[], x.shape)));
  };
  k['GatherV2'] = ({ inputs, attrs, backend: b }) => {
    if (((attrs['batchDims'] as number | undefined) ?? 0) !== 0) return NOT_COVERED;
    const x = input(inputs, 'x');
    const axis = tf.util.parseAxisParam(attrs['axis'] as number, x.shape)[0]!;
    return b.out(addon.gather(b.slot(x), b.slot(input(inputs, 'indices')), axis));
  };
  k['OneHot'] = ({ inputs, attrs, backend: b }) =>
    b.out(
      addon.oneHot(
        b.slot(input(inputs, 'indices')),
        attrs['depth'] as number,
        attrs['onValue'] as number,
        attrs['offValue'] as number,
        dtypeCode(attrs['dtype'] as tf.DataType),
      ),
    );
  k['Fill'] = ({ attrs, backend: b }) => {
    const dtype = (attrs['dtype'] as tf.DataType | undefined) ?? 'float32';
    if (dtype === 'string') return NOT_COVERED;
    return b.out(addon.fill(attrs['shape'] as number[], attrs['value'] as number, dtypeCode(dtype)));
  };
  k['ZerosLike'] = ({ inputs, backend: b }) => b.out(addon.zerosLike(b.slot(input(inputs, 'x'))));
  k['OnesLike'] = ({ inputs, backend: b }) => b.out(addon.onesLike(b.slot(input(inputs, 'x'))));

  const matMul: PartialTorchKernel = ({ inputs, attrs, backend: b }) => {
    const activation = activationCode(attrs['activation']);
    return b.out(
      addon.matMul(
        b.slot(input(inputs, 'a')),
        b.slot(input(inputs, 'b')),
        attrs['transposeA'] === true,
        attrs['transposeB'] === true,
        b.slotOrNone(inputs['bias']),
        activation,
        (attrs['leakyreluAlpha'] as number | undefined) ?? 0.2,
        b.slotOrNone(inputs['preluActivationWeights']),
      ),
    );
  };
  k['BatchMatMul'] = matMul;
  k['_FusedMatMul'] = matMul;

  const conv2d: PartialTorchKernel = ({ inputs, attrs, backend: b }) => {
    if (attrs['dataFormat'] === 'NCHW') return NOT_COVERED;
    const x = input(inputs, 'x');
    const filter = input(inputs, 'filter');
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs['strides'] as [number, number],
      attrs['dilations'] as [number, number],
      attrs['pad'] as 'same',
      attrs['dimRoundingMode'] as 'floor' | undefined,
    );
    return b.out(
      addon.conv2d(
        b.slot(x),
        b.slot(filter),
        b.slotOrNone(inputs['bias']),
        activationCode(attrs['activation']),
        (attrs['leakyreluAlpha'] as number | undefined) ?? 0.2,
        b.slotOrNone(inputs['preluActivationWeights']),
        [info.strideHeight, info.strideWidth],
        [info.dilationHeight, info.dilationWidth],
        pads(info),
      ),
    );
  };
  k['Conv2D'] = conv2d;
  k['FusedConv2D'] = conv2d;
  k['Conv2DBackpropInput'] = ({ inputs, attrs, backend: b }) => {
    if (attrs['dataFormat'] === 'NCHW') return NOT_COVERED;
    const dy = input(inputs, 'dy');
    const filter = input(inputs, 'filter');
    const inputShape = attrs['inputShape'] as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      attrs['strides'] as [number, number],
      1,
      attrs['pad'] as 'same',
      attrs['dimRoundingMode'] as 'floor' | undefined,
    );
    return b.out(addon.conv2dBackpropInput(b.slot(dy), b.slot(filter), inputShape, [info.strideHeight, info.strideWidth], [1, 1], pads(info)));
  };
  k['Conv2DBackpropFilter'] = ({ inputs, attrs, backend: b }) => {
    if (attrs['dataFormat'] === 'NCHW') return NOT_COVERED;
    const x = input(inputs, 'x');
    const filterShape = attrs['filterShape'] as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      attrs['strides'] as [number, number],
      1,
      attrs['pad'] as 'same',
      attrs['dimRoundingMode'] as 'floor' | undefined,
    );
    return b.out(addon.conv2dBackpropFilter(b.slot(x), b.slot(input(inputs, 'dy')), filterShape, [info.strideHeight, info.strideWidth], [1, 1], pads(info)));
  };

  const poolInfo = (x: tf.TensorInfo, attrs: Attrs) =>
    tf.backend_util.computePool2DInfo(
      x.shape as [number, number, number, number],
      attrs['filterSize'] as [number, number],
      attrs['strides'] as [number, number],
      1,
      attrs['pad'] as 'same',
      attrs['dimRoundingMode'] as 'floor' | undefined,
    );
  k['MaxPool'] = ({ inputs, attrs, backend: b }) => {
    const x = input(inputs, 'x');
    const info = poolInfo(x, attrs);
    return b.out(
      addon.maxPool(b.slot(x), [info.filterHeight, info.filterWidth], [info.strideHeight, info.strideWidth], pads(info), [info.outHeight, info.outWidth]),
    );
  };
  k['MaxPoolGrad'] = ({ inputs, attrs, backend: b }) => {
    const x = input(inputs, 'input');
    const info = poolInfo(x, attrs);
    return b.out(
      addon.maxPoolGrad(
        b.slot(input(inputs, 'dy')),
        b.slot(x),
        b.slot(input(inputs, 'output')),
        [info.filterHeight, info.filterWidth],
        [info.strideHeight, info.strideWidth],
        pads(info),
        [info.outHeight, info.outWidth],
      ),
    );
  };

  k['StochasticPool2D'] = ({ inputs, attrs, backend: b }) =>
    b.outs(
      addon.stochasticPool(
        b.slot(input(inputs, 'x')),
        attrs['poolSize'] as number,
        attrs['strides'] as number,
        attrs['training'] === true,
        ((attrs['seed'] as number | undefined) ?? 0) >>> 0,
      ),
    );
  k['StochasticPool2DGrad'] = ({ inputs, attrs, backend: b }) =>
    b.out(addon.stochasticPoolGrad(b.slot(input(inputs, 'dy')), b.slot(input(inputs, 'argIndex')), attrs['inputShape'] as number[]));

  return k;
}
