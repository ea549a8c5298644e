import { writeFile } from 'node:fs/promises';
import { syntheticFaces } from '../../src/data/synthetic.js';

/** Writes a fer2013.csv of synthetic faces with Training and PublicTest rows. */
export async function writeSyntheticCsv(file: string, training: number, publicTest: number): Promise<void> {
  const rows = ['emotion,pixels,Usage'];
  for (const [usage, count, seed] of [['Training', training, 11], ['PublicTest', publicTest, 12]] as const) {
    const set = syntheticFaces(count, seed);
    for (let i = 0; i < set.count; i++) rows.push(`${set.labels[i]},${set.pixels.subarray(i * 2304, (i + 1) * 2304).join(' ')},${usage}`);
  }
  await writeFile(file, rows.join('\n') + '\n');
}
