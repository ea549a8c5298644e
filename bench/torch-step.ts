/**
 * Training and inference images/s of the network at batch 128 on the tfjs `torch` backend
 * against PyTorch (Debian python3-torch: 2 threads, channels_last, the same net with
 * ceil-mode 3x3/2 max pooling in place of stochastic pooling, dropout, Adagrad), measured
 * in alternating rounds of one run because this machine's speed drifts.
 *
 *   node dist/bench/torch-step.js [--rounds 2] [--steps 7] [--threads 2] [--profile] [--stochastic] [--pytorch-malloc]
 *
 * --pytorch-malloc gives PyTorch the glibc settings the addon applies to itself (freed
 * memory kept in the heap instead of fresh page-faulting mmaps per tensor), which speeds
 * PyTorch up by about a third on this machine; without it PyTorch runs as installed.
 * --profile prints per-kernel times of one training step on torch; --stochastic also times
 * the project's network (stochastic pooling, native kernel), which PyTorch has no twin of.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildNetwork } from '../src/model/network.js';
import { fallbacksUsed, startTorchBackend, torchAvailability } from '../src/model/engine/torch/index.js';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    steps: { type: 'string', default: '7' },
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '128' },
    python: { type: 'string', default: '/usr/bin/python3' },
    profile: { type: 'boolean', default: false },
    stochastic: { type: 'boolean', default: false },
    'pytorch-malloc': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(opts.rounds);
const STEPS = Number(opts.steps);
const THREADS = Number(opts.threads);
const B = Number(opts.batch);
const WARMUP = 2;

/** The network of src/model/network.ts with max pooling, as the PyTorch twin below has. */
function maxPoolNetwork(): tfl.LayersModel {
  const conv = (filters: number, kernelSize: number, extra: object = {}) =>
    tfl.layers.conv2d({ filters, kernelSize, padding: 'same', activation: 'relu', ...extra });
  const pool = () => tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' });
  return tfl.sequential({
    layers: [
      conv(64, 5, { inputShape: [48, 48, 1] }), pool(),
      conv(64, 3), conv(128, 3), pool(),
      conv(128, 3), conv(128, 3), pool(),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 1024, activation: 'relu' }), tfl.layers.dropout({ rate: 0.5, seed: 1 }),
      tfl.layers.dense({ units: 1024, activation: 'relu' }), tfl.layers.dropout({ rate: 0.5, seed: 2 }),
      tfl.layers.dense({ units: 7 }),
    ],
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Rates {
  train: number;
  infer: number;
}

/** The trainer's step (src/train/trainer.ts): minimize softmax cross-entropy with Adagrad. */
function makeStep(model: tfl.LayersModel) {
  const optimizer = tf.train.adagrad(0.01);
  const x = tf.randomUniform([B, 48, 48, 1]);
  const labels = tf.tensor1d(Array.from({ length: B }, (_, i) => i % 7), 'int32');
  const train = () => {
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 7), model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      true,
    ) as tf.Scalar;
    loss.dataSync();
    loss.dispose();
  };
  const infer = () => {
    const y = tf.tidy(() => model.predict(x, { batchSize: B }) as tf.Tensor);
    y.dataSync();
    y.dispose();
  };
  return { train, infer, optimizer, dispose: () => tf.dispose([x, labels]) };
}

function time(f: () => void, n: number): number {
  for (let i = 0; i < WARMUP; i++) f();
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    f();
    ts.push(performance.now() - t);
  }
  return median(ts) / 1000;
}

function tfjsRates(model: tfl.LayersModel): Rates {
  const s = makeStep(model);
  const train = B / time(s.train, STEPS);
  const infer = B / time(s.infer, STEPS);
  s.optimizer.dispose();
  s.dispose();
  return { train, infer };
}

const PYTORCH = `
import sys, time, json, torch, torch.nn as nn, torch.nn.functional as F
threads, B, steps, warm = (int(a) for a in sys.argv[1:5])
torch.set_num_threads(threads)
torch.manual_seed(0)
conv = lambda i, o, k: [nn.Conv2d(i, o, k, padding=k // 2), nn.ReLU()]
pool = lambda: [nn.MaxPool2d(3, 2, ceil_mode=True)]
net = nn.Sequential(*conv(1, 64, 5), *pool(), *conv(64, 64, 3), *conv(64, 128, 3), *pool(),
    *conv(128, 128, 3), *conv(128, 128, 3), *pool(), nn.Flatten(),
    nn.Linear(4608, 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, 1024), nn.ReLU(), nn.Dropout(0.5),
    nn.Linear(1024, 7)).to(memory_format=torch.channels_last)
opt = torch.optim.Adagrad(net.parameters(), lr=0.01)
x = torch.rand(B, 1, 48, 48).to(memory_format=torch.channels_last)
y = torch.arange(B) % 7
def train():
    opt.zero_grad()
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    opt.step()
    loss.item()
def infer():
    with torch.no_grad():
        net(x).sum().item()
def timed(f):
    for _ in range(warm): f()
    ts = []
    for _ in range(steps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2]
net.train(); tr = timed(train)
net.eval(); inf = timed(infer)
print(json.dumps({"train": B / tr, "infer": B / inf, "version": torch.__version__, "threads": torch.get_num_threads()}))
`;

function pytorchRates(): Rates & { version: string } {
  const env = opts['pytorch-malloc'] ? { ...process.env, MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: '2147483647' } : process.env;
  const r = spawnSync(opts.python!, ['-c', PYTORCH, String(THREADS), String(B), String(STEPS), String(WARMUP)], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`PyTorch run failed (${opts.python}): ${r.stderr || r.error?.message}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function profile(model: tfl.LayersModel, which: 'train' | 'infer'): Promise<void> {
  const s = makeStep(model);
  s[which]();
  const info = await tf.profile(() => s[which]());
  const byKernel = new Map<string, { ms: number; calls: number }>();
  // Entries named op__ wrap the kernels below them; count kernels only.
  for (const k of info.kernels.filter((e) => !e.name.endsWith('__op'))) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += k.kernelTimeMs as number;
    e.calls++;
    byKernel.set(k.name, e);
  }
  const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
  console.log(`\nper-kernel time of one ${which === 'train' ? 'training step' : 'inference batch'} on torch (sum ${total.toFixed(1)} ms over ${[...byKernel.values()].reduce((a, e) => a + e.calls, 0)} kernel calls):`);
  for (const [name, e] of [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`  ${name.padEnd(22)} ${e.ms.toFixed(1).padStart(8)} ms  ${String(e.calls).padStart(4)} calls  ${((100 * e.ms) / total).toFixed(1).padStart(5)} %`);
  }
  s.optimizer.dispose();
  s.dispose();
}

const availability = torchAvailability();
if (!availability.available) {
  console.log(`skipped: ${availability.reason}`);
  process.exit(0);
}
const started = await startTorchBackend(THREADS);
console.log(
  `torch backend: libtorch ${availability.torchVersion}, ${started.threads} threads, OMP_WAIT_POLICY=${process.env['OMP_WAIT_POLICY']} ` +
    `(PyTorch runs with the same environment${opts['pytorch-malloc'] ? ' and the addon\'s malloc settings' : ''}); batch ${B}, median of ${STEPS} steps, ${ROUNDS} rounds`,
);
const model = maxPoolNetwork();
const ours: Rates[] = [];
const theirs: Rates[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const o = tfjsRates(model);
  const p = pytorchRates();
  ours.push(o);
  theirs.push(p);
  console.log(
    `round ${round}: train ${o.train.toFixed(1)} vs PyTorch ${p.train.toFixed(1)} img/s (x${(o.train / p.train).toFixed(2)}), ` +
      `inference ${o.infer.toFixed(1)} vs ${p.infer.toFixed(1)} img/s (x${(o.infer / p.infer).toFixed(2)})`,
  );
}
const ratio = (k: keyof Rates) => median(ours.map((o, i) => o[k] / theirs[i]![k]));
console.log(`ratio torch/PyTorch (median over rounds): training x${ratio('train').toFixed(2)}, inference x${ratio('infer').toFixed(2)}`);
if (opts.stochastic) {
  const r = tfjsRates(buildNetwork());
  console.log(`project network (native stochastic pooling) on torch: train ${r.train.toFixed(1)} img/s, inference ${r.infer.toFixed(1)} img/s`);
}
if (opts.profile) {
  await profile(model, 'train');
  await profile(model, 'infer');
}
const fell = fallbacksUsed();
if (fell.length > 0) console.log(`kernels that ran on the cpu fallback: ${fell.join(', ')}`);
