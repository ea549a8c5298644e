#!/usr/bin/env node
// Builds the libtorch addon behind the tfjs `torch` backend (native/ -> native/build/Release/
// torch_backend.node). Never in the way: without libtorch, a C++ compiler or node-gyp it
// prints one line saying why the torch backend is unavailable and exits 0.
// `--require` turns that into exit 1, for machines that must have the backend.
//
// libtorch: $LIBTORCH (a libtorch distribution: include/, lib/) or Debian's libtorch-dev.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const required = process.argv.includes('--require');

function unavailable(why) {
  console.log(`torch backend not available: ${why}`);
  process.exit(required ? 1 : 0);
}

function findLibtorch() {
  const arch = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch];
  const candidates = process.env.LIBTORCH
    ? [{ include: join(process.env.LIBTORCH, 'include'), lib: join(process.env.LIBTORCH, 'lib') }]
    : arch
      ? [{ include: '/usr/include', lib: `/usr/lib/${arch}` }]
      : [];
  return candidates.find((c) => existsSync(join(c.include, 'ATen', 'ATen.h')) && existsSync(join(c.lib, 'libtorch_cpu.so')));
}

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((p) => p && existsSync(p));
}

const torch = findLibtorch();
if (!torch) {
  unavailable(
    process.env.LIBTORCH
      ? `LIBTORCH=${process.env.LIBTORCH} has no include/ATen/ATen.h and lib/libtorch_cpu.so`
      : 'libtorch not found (apt-get install libtorch-dev libopenblas0-pthread, or set LIBTORCH to a libtorch directory)',
  );
}
const nodeGyp = findNodeGyp();
if (!nodeGyp) unavailable('node-gyp not found (it ships with npm; or set npm_config_node_gyp)');

// Node's own headers, when installed, spare node-gyp a download (which fails offline).
const nodePrefix = resolve(dirname(process.execPath), '..');
const nodedir = existsSync(join(nodePrefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${nodePrefix}`] : [];
const run = spawnSync(process.execPath, [nodeGyp, 'rebuild', ...nodedir], {
  cwd: nativeDir,
  env: { ...process.env, TORCH_INCLUDE: torch.include, TORCH_LIB: torch.lib },
  encoding: 'utf8',
});
if (run.status !== 0) {
  const log = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  const firstError = log.split('\n').find((l) => /error/i.test(l)) ?? run.error?.message ?? `exit ${run.status}`;
  unavailable(`the addon failed to build against ${torch.lib}: ${firstError.trim()} (rerun: cd native && node ${nodeGyp} rebuild)`);
}

// Debian's libtorch calls whatever libblas.so.3 is installed; the reference BLAS is 2-3x slower.
let blas = '';
const libblas = join(torch.lib, 'libblas.so.3');
if (!process.env.LIBTORCH && existsSync(libblas) && !realpathSync(libblas).includes('openblas')) {
  blas = ' (note: libblas.so.3 is not OpenBLAS; apt-get install libopenblas0-pthread for full speed)';
}
console.log(`torch backend built: native/build/Release/torch_backend.node against ${torch.lib}${blas}`);
