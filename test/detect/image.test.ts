import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { decodeImage } from '../../src/detect/image.js';

/** A 40x20 JPEG whose left half is red and right half blue, tagged with the given EXIF orientation. */
async function halvesJpeg(orientation: number): Promise<Buffer> {
  const w = 40;
  const h = 20;
  const blue = Buffer.from(`<svg width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg"><rect x="20" width="20" height="20" fill="#0000ff"/></svg>`);
  return sharp({ create: { width: w, height: h, channels: 3, background: '#ff0000' } })
    .composite([{ input: blue, left: 0, top: 0 }])
    .jpeg({ quality: 95 })
    .withMetadata({ orientation })
    .toBuffer();
}

function pixel(img: { width: number; rgb: Uint8Array }, x: number, y: number): number[] {
  const i = (y * img.width + x) * 3;
  return Array.from(img.rgb.subarray(i, i + 3));
}

test('decodeImage applies EXIF orientation 6 (rotate 90 degrees clockwise)', async () => {
  const img = await decodeImage(await halvesJpeg(6));
  assert.equal(img.width, 20);
  assert.equal(img.height, 40);
  assert.equal(img.rgb.length, 20 * 40 * 3);
  assert.equal(img.gray.length, 20 * 40);
  // Turning clockwise moves the stored left (red) half to the top.
  const [r1, , b1] = pixel(img, 10, 5) as [number, number, number];
  const [r2, , b2] = pixel(img, 10, 35) as [number, number, number];
  assert.ok(r1 > 200 && b1 < 60, `top should be red, got ${pixel(img, 10, 5)}`);
  assert.ok(b2 > 200 && r2 < 60, `bottom should be blue, got ${pixel(img, 10, 35)}`);
});

test('decodeImage keeps the stored layout without orientation', async () => {
  const img = await decodeImage(await halvesJpeg(1));
  assert.equal(img.width, 40);
  assert.equal(img.height, 20);
  assert.ok((pixel(img, 5, 10)[0] as number) > 200, 'left half stays red');
});

test('decodeImage turns grayscale and alpha inputs into RGB plus luma', async () => {
  const png = await sharp({ create: { width: 8, height: 6, channels: 4, background: { r: 200, g: 200, b: 200, alpha: 0.5 } } })
    .png()
    .toBuffer();
  const img = await decodeImage(png);
  assert.equal(img.rgb.length, 8 * 6 * 3);
  assert.equal(img.gray.length, 8 * 6);
  assert.ok(Math.abs((img.gray[0] as number) - 200) <= 2, `gray ${img.gray[0]}`);

  const grayPng = await sharp(Buffer.alloc(4 * 3, 90), { raw: { width: 4, height: 3, channels: 1 } }).png().toBuffer();
  const g = await decodeImage(grayPng);
  assert.deepEqual(Array.from(g.rgb.subarray(0, 3)), [90, 90, 90]);
  assert.equal(g.gray[0], 90);
});

test('decodeImage rejects garbage and missing files', async () => {
  await assert.rejects(decodeImage(Buffer.from('not an image')));
  await assert.rejects(decodeImage('/nonexistent/definitely-missing.jpg'));
});
