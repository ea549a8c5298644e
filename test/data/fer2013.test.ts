import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readFer2013 } from '../../src/data/fer2013.js';
import { DataError } from '../../src/data/errors.js';
import { ferCsv, pixelText, sharedData, withTempDir } from '../helpers/fixtures.js';

test('reads splits, labels and exact pixels from a plain CSV', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'fer.csv');
    await writeFile(file, ferCsv([[0, 'Training'], [3, 'PublicTest'], [6, 'Training'], [5, 'PrivateTest']]));
    const result = await readFer2013(file);
    assert.deepEqual([...result.splits.keys()], ['Training', 'PublicTest', 'PrivateTest']);
    const training = result.splits.get('Training')!;
    assert.equal(training.count, 2);
    assert.deepEqual([...training.labels], [0, 6]);
    assert.deepEqual([...training.pixels.subarray(2304, 2304 + 4)], pixelText(2).split(' ').slice(0, 4).map(Number));
    assert.equal(result.splits.get('PrivateTest')!.labels[0], 5);
    assert.equal(result.rows, 4);
  });
});

test('reads gzip and CRLF line endings and a last line without newline', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'fer.csv.gz');
    const text = ferCsv([[1, 'Training'], [2, 'Training']]).replace(/\n/g, '\r\n').replace(/\r\n$/, '');
    await writeFile(file, gzipSync(text));
    const result = await readFer2013(file);
    assert.equal(result.splits.get('Training')!.count, 2);
    assert.deepEqual([...result.splits.get('Training')!.labels], [1, 2]);
  });
});

test('reads the test-only variant without the emotion column as unlabelled', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'test.csv');
    await writeFile(file, `pixels,Usage\n${pixelText(1)},PublicTest\n${pixelText(2)},PrivateTest\n`);
    const result = await readFer2013(file);
    assert.equal(result.splits.get('PublicTest')!.labels[0], -1);
    assert.equal(result.splits.get('PrivateTest')!.count, 1);
  });
});

const px = pixelText(0);
const malformed: [string, string, RegExp][] = [
  ['wrong column count', `3,${px}`, /:3: row: has 2 columns, expected 3/],
  ['too few pixels', `3,${px.split(' ').slice(0, 2303).join(' ')},Training`, /:3: pixels: has 2303 pixels, expected 2304/],
  ['too many pixels', `3,${px} 7,Training`, /:3: pixels: has 2305 pixels/],
  ['pixel above 255', `3,256 ${px.split(' ').slice(1).join(' ')},Training`, /:3: pixels: pixel 1 is 256, outside 0-255/],
  ['negative pixel', `3,${px.split(' ').slice(0, 5).join(' ')} -4 ${px.split(' ').slice(6).join(' ')},Training`, /:3: pixels: pixel 6 "-4" is not an integer/],
  ['non-integer pixel', `3,1.5 ${px.split(' ').slice(1).join(' ')},Training`, /:3: pixels: pixel 1 "1.5" is not an integer/],
  ['label out of range', `7,${px},Training`, /:3: emotion: label "7" is not an integer 0-6/],
  ['non-numeric label', `x,${px},Training`, /:3: emotion: label "x"/],
  ['unknown usage', `3,${px},Validation`, /:3: Usage: unknown Usage "Validation"/],
];

for (const [kind, badLine, message] of malformed) {
  test(`stops at a malformed row (${kind}) naming file, line and field`, async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'bad.csv');
      await writeFile(file, `emotion,pixels,Usage\n0,${px},Training\n${badLine}\n4,${px},Training\n`);
      await assert.rejects(readFer2013(file), (err: unknown) => {
        assert.ok(err instanceof DataError);
        assert.ok(err.message.startsWith(file), err.message);
        assert.match(err.message, message);
        return true;
      });
    });
  });
}

test('skip mode keeps going, counts every kind of bad row, and keeps the good rows', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'bad.csv');
    const lines = ['emotion,pixels,Usage', `0,${px},Training`];
    for (const [, badLine] of malformed) lines.push(badLine, `5,${px},Training`);
    await writeFile(file, lines.join('\n') + '\n');
    const result = await readFer2013(file, { skipBadRows: true });
    assert.equal(result.badRows.length, malformed.length);
    assert.deepEqual(result.badRows.map((e) => e.line), malformed.map((_, i) => 3 + 2 * i));
    assert.equal(result.splits.get('Training')!.count, 1 + malformed.length);
    assert.ok([...result.splits.get('Training')!.labels].slice(1).every((l) => l === 5));
  });
});

test('a truncated gzip is an error naming the file, also in skip mode', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'cut.csv.gz');
    const gz = gzipSync(ferCsv(Array.from({ length: 50 }, () => [0, 'Training'] as const)));
    await writeFile(file, gz.subarray(0, Math.floor(gz.length / 2)));
    for (const skipBadRows of [false, true]) {
      await assert.rejects(readFer2013(file, { skipBadRows }), (err: unknown) => {
        assert.ok(err instanceof DataError);
        assert.match(err.message, /cut\.csv\.gz:\d+: gzip stream is corrupt or truncated/);
        return true;
      });
    }
  });
});

test('a missing file and a file without a pixels column are clear errors', async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(readFer2013(join(dir, 'nope.csv')), /nope\.csv: cannot open: ENOENT/);
    const file = join(dir, 'wrong.csv');
    await writeFile(file, 'a,b,c\n1,2,3\n');
    await assert.rejects(readFer2013(file), /wrong\.csv:1: header: no "pixels" column/);
  });
});

const dev = sharedData('fer2013/fer2013-dev.csv.gz');
test('the shared FER2013 dev file has the README counts', { skip: dev.skip }, async () => {
  const result = await readFer2013(dev.path);
  const count = (split: string, c: number): number => result.splits.get(split)!.labels.filter((l) => l === c).length;
  assert.equal(result.splits.get('Training')!.count, 28709);
  assert.equal(result.splits.get('PublicTest')!.count, 3589);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((c) => count('Training', c)), [3995, 436, 4097, 7215, 4830, 3171, 4965]);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((c) => count('PublicTest', c)), [467, 56, 496, 895, 653, 415, 607]);
  assert.deepEqual([...result.splits.get('Training')!.pixels.subarray(0, 5)], [70, 80, 82, 72, 58]);
});
