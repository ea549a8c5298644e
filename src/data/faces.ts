/** Size of every face the network sees. */
export const FACE_SIZE = 48;
export const FACE_PIXELS = FACE_SIZE * FACE_SIZE;

/**
 * A set of 48x48 grayscale faces in one compact buffer: face i occupies
 * pixels[i*2304, (i+1)*2304), row-major. Labels are FER2013 indices; -1 means unlabelled.
 */
export interface FaceSet {
  readonly count: number;
  readonly pixels: Uint8Array;
  readonly labels: Int8Array;
}

export function faceSubset(set: FaceSet, indices: ArrayLike<number>): FaceSet {
  const n = indices.length;
  const pixels = new Uint8Array(n * FACE_PIXELS);
  const labels = new Int8Array(n);
  for (let k = 0; k < n; k++) {
    const i = indices[k] as number;
    pixels.set(set.pixels.subarray(i * FACE_PIXELS, (i + 1) * FACE_PIXELS), k * FACE_PIXELS);
    labels[k] = set.labels[i] as number;
  }
  return { count: n, pixels, labels };
}
