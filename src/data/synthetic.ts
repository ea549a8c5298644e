import type { FaceSet } from './faces.js';
import { Rng } from '../util/rng.js';

/**
 * Synthetic faces (no real data) that a small network can tell apart: a bright ellipse with a class-dependent dark bar
 * (its row and tilt depend on the class), plus noise. `count` faces cycle through the 7 classes.
 */
export function syntheticFaces(count: number, seed: number): FaceSet {
  const rng = new Rng(seed);
  const pixels = new Uint8Array(count * 2304);
  const labels = new Int8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 7;
    labels[i] = label;
    for (let y = 0; y < 48; y++) {
      for (let x = 0; x < 48; x++) {
        const inFace = ((x - 24) / 18) ** 2 + ((y - 24) / 22) ** 2 < 1;
        const bar = Math.abs(y - (10 + label * 4) - (x - 24) * (label - 3) * 0.1) < 2;
        const value = (inFace ? 170 : 60) - (bar ? 120 : 0) + (rng.next() - 0.5) * 40;
        pixels[i * 2304 + y * 48 + x] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
  }
  return { count, pixels, labels };
}
