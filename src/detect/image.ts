import sharp from 'sharp';

/** An 8-bit image after EXIF orientation has been applied, as row-major interleaved bytes. */
export interface DecodedImage {
  width: number;
  height: number;
  /** width * height * 3 bytes, RGB. */
  rgb: Uint8Array;
  /** width * height bytes, luma. */
  gray: Uint8Array;
}

/**
 * Decodes any format sharp reads (JPEG, PNG, WebP, ...). The EXIF orientation is applied first so
 * that boxes and crops refer to the image as a viewer shows it, not as the sensor stored it.
 */
export async function decodeImage(input: string | Uint8Array): Promise<DecodedImage> {
  // Grayscale, CMYK, alpha and 16-bit inputs all end up as 8-bit sRGB so callers see one layout.
  const { data, info } = await sharp(input)
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) {
    throw new Error(`decodeImage: expected 3 channels after conversion, got ${info.channels}`);
  }
  const { width, height } = info;
  const rgb = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  // Luma from the already decoded pixels rather than a second decode of the source.
  const gray = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .toColourspace('b-w')
    .raw({ depth: 'uchar' })
    .toBuffer();
  if (gray.byteLength !== width * height) {
    throw new Error(`decodeImage: grayscale conversion gave ${gray.byteLength} bytes for ${width}x${height}`);
  }
  return { width, height, rgb, gray: new Uint8Array(gray.buffer, gray.byteOffset, gray.byteLength) };
}
