/**
 * Writes samples/fer2013-sample.csv.gz: synthetic faces (see src/data/synthetic.ts; no real
 * data) in the fer2013.csv format, so that the README's first command runs without ../shared.
 *   node dist/scripts/make-sample.js
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PACKAGE_ROOT } from '../src/data/paths.js';
import { syntheticFaces } from '../src/data/synthetic.js';

const rows = ['emotion,pixels,Usage'];
for (const [usage, count, seed] of [['Training', 56, 2013], ['PublicTest', 14, 2014]] as const) {
  const set = syntheticFaces(count, seed);
  for (let i = 0; i < set.count; i++) rows.push(`${set.labels[i]},${set.pixels.subarray(i * 2304, (i + 1) * 2304).join(' ')},${usage}`);
}
await writeFile(join(PACKAGE_ROOT, 'samples', 'fer2013-sample.csv.gz'), gzipSync(rows.join('\n') + '\n', { level: 9 }));
console.log(`wrote ${rows.length - 1} rows to samples/fer2013-sample.csv.gz`);
