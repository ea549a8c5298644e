/** Engine start-up: the engine registry, idempotency and the 2-thread wasm binary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describeEngine, initEngine } from '../../src/model/engine/backend.js';
import { torchAvailability } from '../../src/model/engine/torch/index.js';
import { onBoth, randomTensor, relativeError } from './reference.js';

const originalBlob = globalThis.Blob;
const originalCreateObjectURL = URL.createObjectURL;
const realCores = os.cpus().length;

const torch = torchAvailability();

test('without the torch addon, asking for torch fails with the reason and leaves the engine unstarted', { skip: torch.available ? 'the torch addon is built here' : false }, async () => {
  await assert.rejects(initEngine({ backend: 'torch' }), /torch backend not available: ./);
  assert.equal(describeEngine(), 'not started');
});

test('auto picks torch when its addon is built, else wasm', async () => {
  const script = `import('${new URL('../../src/model/engine/backend.js', import.meta.url).href}').then((m) => m.initEngine()).then((e) => console.log(e.backend))`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  assert.equal(stdout.trim(), torch.available ? 'torch' : 'wasm');
});

test('invalid thread counts are refused', async () => {
  await assert.rejects(initEngine({ threads: 0 }), /positive integer/);
  await assert.rejects(initEngine({ threads: 1.5 }), /positive integer/);
});

test('wasm starts with min(2, cores) threads, or reports why it fell back to 1', async (t) => {
  const expected = Math.min(2, os.availableParallelism());
  const engine = await initEngine({ backend: 'wasm' });
  assert.equal(engine.backend, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(getThreadsCount(), engine.threads);
  const note = engine.note;
  t.diagnostic(`engine: ${describeEngine()}${note ? ` (${note})` : ''}`);
  if (engine.threads === expected) {
    assert.equal(note, undefined);
  } else {
    // The documented fallback: the single-threaded SIMD binary, with the reason given.
    assert.equal(engine.threads, 1);
    assert.match(note ?? '', /./);
  }
  assert.equal(describeEngine(), `wasm, ${engine.threads} thread${engine.threads === 1 ? '' : 's'}`);
});

test('the start-up patches are undone', () => {
  assert.equal(globalThis.Blob, originalBlob);
  assert.equal(URL.createObjectURL, originalCreateObjectURL);
  assert.equal(os.cpus().length, realCores);
});

test('initEngine is idempotent and refuses a different configuration', async () => {
  const first = await initEngine({ backend: 'wasm' });
  assert.deepEqual(await initEngine({ backend: 'wasm', threads: first.threads }), first);
  assert.deepEqual(await initEngine(), first, 'an unspecified request accepts the running engine');
  await assert.rejects(initEngine({ backend: 'cpu' }), /already started/);
  await assert.rejects(initEngine({ backend: 'wasm', threads: first.threads + 1 }), /already started/);
});

test('the threaded backend computes a convolution and its gradients like cpu', async () => {
  const got = await onBoth(() => {
    const x = randomTensor([4, 24, 24, 16], 1) as tf.Tensor4D;
    const w = randomTensor([3, 3, 16, 32], 2) as tf.Tensor4D;
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))))([x, w]);
    return [tf.conv2d(x, w, 1, 'same'), dx!, dw!];
  });
  got.wasm.forEach((v, i) => assert.ok(relativeError(v, got.cpu[i]!) < 1e-5, `output ${i}`));
});
