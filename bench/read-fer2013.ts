/**
 * Reader speed: time to parse a fer2013.csv(.gz) into typed arrays, next to the time to
 * merely decompress and read the same bytes (the floor any reader pays).
 *   node dist/bench/read-fer2013.js [FILE] [--runs N]
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { join } from 'node:path';
import { readFer2013 } from '../src/data/fer2013.js';
import { dataRoot, DEFAULT_FER_FILE } from '../src/data/paths.js';

const args = process.argv.slice(2);
const runsIndex = args.indexOf('--runs');
const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : 3;
const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs') ?? join(dataRoot(), DEFAULT_FER_FILE);

async function decompressOnly(path: string): Promise<number> {
  let bytes = 0;
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = path.endsWith('.gz') ? raw.pipe(createGunzip({ chunkSize: 1 << 20 })) : raw;
  for await (const chunk of stream as AsyncIterable<Buffer>) bytes += chunk.length;
  return bytes;
}

async function timeIt<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const value = await fn();
  return [(performance.now() - start) / 1000, value];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const readTimes: number[] = [];
const floorTimes: number[] = [];
let bytes = 0;
let rows = 0;
for (let r = 0; r < runs; r++) {
  const [floor, n] = await timeIt(() => decompressOnly(file));
  const [read, result] = await timeIt(() => readFer2013(file));
  floorTimes.push(floor);
  readTimes.push(read);
  bytes = n;
  rows = result.rows;
}
const readS = median(readTimes);
const floorS = median(floorTimes);
const fullFileBytes = 301_072_766;
console.log(`file: ${file}`);
console.log(`${rows.toLocaleString('en-US')} rows, ${(bytes / 1e6).toFixed(1)} MB of CSV text; median of ${runs} runs`);
console.log(`decompress + read only: ${floorS.toFixed(2)} s`);
console.log(`readFer2013:            ${readS.toFixed(2)} s  (${(bytes / 1e6 / readS).toFixed(0)} MB/s)`);
console.log(`ratio reader / decompression: ${(readS / floorS).toFixed(2)}`);
console.log(`projected for the full 301 MB fer2013.csv at this rate: ${((readS * fullFileBytes) / bytes).toFixed(2)} s (target < 5 s)`);
console.log(JSON.stringify({ bench: 'read-fer2013', file, rows, bytes, readSeconds: readS, decompressSeconds: floorS, ratio: readS / floorS }));
