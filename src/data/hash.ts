import { createHash } from 'node:crypto';
import type { FaceSet } from './faces.js';

/** A content hash of a face set (pixels and labels), to tie fitted weights to their data. */
export function faceSetHash(set: FaceSet): string {
  return createHash('sha256').update(set.pixels).update(new Uint8Array(set.labels.buffer, set.labels.byteOffset, set.labels.byteLength)).digest('hex');
}
