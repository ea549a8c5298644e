import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { readImageFolder } from '../../src/data/image-folder.js';
import { sharedData, withTempDir } from '../helpers/fixtures.js';

async function writeImage(file: string, value: number, format: 'png' | 'jpeg' = 'png'): Promise<void> {
  const img = sharp({ create: { width: 96, height: 96, channels: 3, background: { r: value, g: value, b: value } } });
  await writeFile(file, await (format === 'png' ? img.png() : img.jpeg()).toBuffer());
}

test('maps class folders by name and alias, decodes to 48x48 grayscale, per split', async () => {
  await withTempDir(async (root) => {
    for (const [split, cls, value] of [['train', 'Happiness', 200], ['train', 'angry', 10], ['val', 'Neutral', 100]] as const) {
      await mkdir(join(root, split, cls), { recursive: true });
      await writeImage(join(root, split, cls, 'a.png'), value);
    }
    await writeImage(join(root, 'train', 'angry', 'b.jpg'), 50, 'jpeg');
    const result = await readImageFolder(root);
    assert.deepEqual([...result.splits.keys()], ['train', 'val']);
    const train = result.splits.get('train')!;
    assert.equal(train.count, 3);
    assert.deepEqual([...train.labels], [3, 0, 0]);
    assert.equal(train.pixels.length, 3 * 2304);
    assert.ok(train.pixels.subarray(0, 2304).every((v) => Math.abs(v - 200) <= 1));
    assert.deepEqual([...result.splits.get('val')!.labels], [6]);
  });
});

test('a root that holds class folders directly is one split', async () => {
  await withTempDir(async (root) => {
    await mkdir(join(root, 'Sad'));
    await writeImage(join(root, 'Sad', 'x.png'), 30);
    const result = await readImageFolder(root);
    assert.equal(result.splits.size, 1);
    assert.deepEqual([...[...result.splits.values()][0]!.labels], [4]);
  });
});

test('unknown class names and undecodable files are errors naming the path', async () => {
  await withTempDir(async (root) => {
    await mkdir(join(root, 'train', 'Contempt'), { recursive: true });
    await mkdir(join(root, 'train', 'Happy'), { recursive: true });
    await assert.rejects(readImageFolder(root), /train\/Contempt: class folder: unknown class "Contempt"/);
  });
  await withTempDir(async (root) => {
    await mkdir(join(root, 'Happy'));
    await writeImage(join(root, 'Happy', 'good.png'), 90);
    await writeFile(join(root, 'Happy', 'broken.png'), 'not an image');
    await assert.rejects(readImageFolder(root), /Happy\/broken\.png: cannot decode image/);
    const skipped = await readImageFolder(root, { skipBadRows: true });
    assert.equal(skipped.badFiles.length, 1);
    assert.equal([...skipped.splits.values()][0]!.count, 1);
  });
});

const sfew = sharedData('sfew2-aligned');
test('the shared SFEW 2.0 folder has the README counts', { skip: sfew.skip }, async () => {
  const result = await readImageFolder(sfew.path);
  const hist = (split: string): number[] => [0, 1, 2, 3, 4, 5, 6].map((c) => result.splits.get(split)!.labels.filter((l) => l === c).length);
  assert.deepEqual(hist('train'), [135, 39, 61, 141, 121, 74, 113]);
  assert.deepEqual(hist('val'), [61, 18, 36, 50, 54, 39, 66]);
});
