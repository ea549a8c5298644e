/**
 * Training and inference throughput of the Yu & Zhang network on the tfjs engine, next to the
 * same network in PyTorch (bench/torch_reference.py) when Debian's python3-torch is installed.
 *
 *   node dist/bench/train-throughput.js [--batch 128] [--steps 5] [--warmup 2] [--threads 2] [--no-torch]
 *
 * Two tfjs rows: the network with 3x3/2 'same' max pooling (48 -> 24 -> 12 -> 6), the exact
 * counterpart of the PyTorch reference, and the paper's network with stochastic pooling.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { describeEngine, initEngine } from '../src/model/engine/backend.js';
import { buildNetwork } from '../src/model/network.js';

export interface ThroughputOptions {
  batch: number;
  /** Timed steps; the median is reported. */
  steps: number;
  /** Untimed steps first (kernel set-up, XNNPACK weight packing, allocator growth). */
  warmup: number;
  /** AdaGrad learning rate (the paper's initial rate). */
  lr?: number;
}

export interface Throughput {
  batch: number;
  trainImagesPerSec: number;
  inferImagesPerSec: number;
  trainStepMs: number;
  inferStepMs: number;
}

const PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = fileURLToPath(new URL('../../bench/torch_reference.py', import.meta.url));
const NUM_CLASSES = 7;

/** The paper's network with max pooling standing in for stochastic pooling; outputs logits. */
export function buildMaxPoolStandIn(dropout = 0.5): tfl.LayersModel {
  const conv = (filters: number, kernelSize: number) =>
    tfl.layers.conv2d({ filters, kernelSize, padding: 'same', activation: 'relu' });
  const pool = () => tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [48, 48, 1], filters: 64, kernelSize: 5, padding: 'same', activation: 'relu' }),
      pool(),
      conv(64, 3), conv(128, 3), pool(),
      conv(128, 3), conv(128, 3), pool(),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 1024, activation: 'relu' }), tfl.layers.dropout({ rate: dropout }),
      tfl.layers.dense({ units: 1024, activation: 'relu' }), tfl.layers.dropout({ rate: dropout }),
      tfl.layers.dense({ units: NUM_CLASSES }),
    ],
  });
}

async function medianMs(step: () => Promise<void>, warmup: number, steps: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await step();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    await step();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const mid = Math.floor(times.length / 2);
  return times.length % 2 === 1 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
}

/**
 * Times AdaGrad training steps (softmax cross-entropy on the model's logits, dropout active)
 * and inference on one random batch, on the current tfjs backend. The model is disposed.
 */
export async function measureThroughput(
  buildModel: () => tfl.LayersModel, opts: ThroughputOptions,
): Promise<Throughput> {
  const { batch, steps, warmup, lr = 0.005 } = opts;
  const model = buildModel();
  const optimizer = tf.train.adagrad(lr);
  const x = tf.randomNormal([batch, 48, 48, 1], 0, 1, 'float32', 1);
  const labels = tf.oneHot(tf.randomUniform([batch], 0, NUM_CLASSES, 'int32', 2), NUM_CLASSES);
  try {
    const trainStepMs = await medianMs(async () => {
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true);
      await loss!.data();
      loss!.dispose();
    }, warmup, steps);
    const inferStepMs = await medianMs(async () => {
      const logits = model.predict(x, { batchSize: batch }) as tf.Tensor;
      await logits.data();
      logits.dispose();
    }, warmup, steps);
    return {
      batch,
      trainImagesPerSec: (batch * 1000) / trainStepMs,
      inferImagesPerSec: (batch * 1000) / inferStepMs,
      trainStepMs,
      inferStepMs,
    };
  } finally {
    tf.dispose([x, labels]);
    optimizer.dispose();
    model.dispose();
  }
}

type TorchResult = Throughput & { torch: string; threads: number };

/** Runs the PyTorch reference, or says why it cannot. */
function measureTorch(opts: ThroughputOptions, threads: number): TorchResult | string {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error != null || probe.status !== 0) {
    return `no PyTorch reference: ${PYTHON} cannot import torch (Debian packages: python3-torch libopenblas0-pthread)`;
  }
  const run = spawnSync(PYTHON, [
    TORCH_SCRIPT, '--batch', String(opts.batch), '--steps', String(opts.steps),
    '--warmup', String(opts.warmup), '--threads', String(threads), '--lr', String(opts.lr ?? 0.005),
  ], { encoding: 'utf8' });
  if (run.status !== 0) return `PyTorch reference failed: ${run.stderr.trim().split('\n').at(-1) ?? `exit ${run.status}`}`;
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as TorchResult;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      batch: { type: 'string', default: '128' },
      steps: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' },
      threads: { type: 'string', default: '2' },
      'no-torch': { type: 'boolean', default: false },
    },
  });
  const opts: ThroughputOptions = { batch: Number(values.batch), steps: Number(values.steps), warmup: Number(values.warmup) };
  const engine = await initEngine({ backend: 'wasm', threads: Number(values.threads) });
  const tfjs = await measureThroughput(() => buildMaxPoolStandIn(), opts);
  const paper = await measureThroughput(() => buildNetwork(), opts);
  const torch = values['no-torch'] ? 'PyTorch reference skipped (--no-torch)' : measureTorch(opts, engine.threads);

  const row = (name: string, t: Throughput) =>
    `| ${name.padEnd(34)} | ${t.trainImagesPerSec.toFixed(1).padStart(9)} | ${t.inferImagesPerSec.toFixed(1).padStart(9)} |`;
  console.log(`\nbatch ${opts.batch}, median of ${opts.steps} steps after ${opts.warmup} warm-up; images/s`);
  console.log(`| ${'engine'.padEnd(34)} | ${'training'.padStart(9)} | ${'inference'.padStart(9)} |`);
  console.log(`|${'-'.repeat(36)}|${'-'.repeat(11)}|${'-'.repeat(11)}|`);
  console.log(row(`tfjs ${describeEngine()}, max pooling`, tfjs));
  console.log(row(`tfjs ${describeEngine()}, stochastic pooling`, paper));
  let ratio: { train: number; infer: number } | null = null;
  if (typeof torch === 'string') {
    console.log(`\n${torch}`);
  } else {
    console.log(row(`PyTorch ${torch.torch}, ${torch.threads} threads`, torch));
    ratio = { train: torch.trainImagesPerSec / tfjs.trainImagesPerSec, infer: torch.inferImagesPerSec / tfjs.inferImagesPerSec };
    console.log(`\nPyTorch / tfjs (same net, max pooling): training ${ratio.train.toFixed(2)}x, inference ${ratio.infer.toFixed(2)}x`);
    console.log(`PyTorch (max pooling) / tfjs (stochastic pooling, the paper's net): training ${(torch.trainImagesPerSec / paper.trainImagesPerSec).toFixed(2)}x, inference ${(torch.inferImagesPerSec / paper.inferImagesPerSec).toFixed(2)}x`);
  }
  if (engine.note != null) console.log(`note: ${engine.note}`);
  console.log(JSON.stringify({
    bench: 'train-throughput',
    engine: { backend: engine.backend, threads: engine.threads },
    tfjs,
    paper,
    torch: typeof torch === 'string' ? null : torch,
    torchUnavailable: typeof torch === 'string' ? torch : undefined,
    ratio,
  }));
}

if (process.argv[1] != null && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
