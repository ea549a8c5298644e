/**
 * Writes samples/fer2013-sample.csv.gz: a small synthetic file in the fer2013.csv format
 * (no real faces: a bright ellipse with a class-dependent mouth curve) so that the README's
 * first command has data to run on without ../shared.
 *   node dist/scripts/make-sample.js
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PACKAGE_ROOT } from '../src/data/paths.js';
import { Rng } from '../src/util/rng.js';

const rng = new Rng(2013);
const rows = ['emotion,pixels,Usage'];
for (const [usage, perClass] of [['Training', 8], ['PublicTest', 2]] as const) {
  for (let label = 0; label < 7; label++) {
    for (let k = 0; k < perClass; k++) {
      const curve = (label - 3) / 3;
      const pixels: number[] = [];
      for (let y = 0; y < 48; y++) {
        for (let x = 0; x < 48; x++) {
          const inFace = ((x - 24) / 18) ** 2 + ((y - 24) / 22) ** 2 < 1;
          const mouth = Math.abs(y - (34 + curve * ((x - 24) / 8) ** 2)) < 1.5 && Math.abs(x - 24) < 8;
          const base = inFace ? (mouth ? 40 : 170) : 60;
          pixels.push(Math.max(0, Math.min(255, Math.round(base + (rng.next() - 0.5) * 30))));
        }
      }
      rows.push(`${label},${pixels.join(' ')},${usage}`);
    }
  }
}
await writeFile(join(PACKAGE_ROOT, 'samples', 'fer2013-sample.csv.gz'), gzipSync(rows.join('\n') + '\n', { level: 9 }));
console.log(`wrote ${rows.length - 1} rows to samples/fer2013-sample.csv.gz`);
