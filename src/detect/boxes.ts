/** Axis-aligned rectangle in image pixels; left/top is the top-left corner. */
export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Which detector produced a box; 'user' marks boxes supplied by the caller instead of detection. */
export type DetectorName = 'ssd' | 'tiny' | 'user';

export interface FaceBox extends Box {
  /** Detector confidence in [0, 1]; 1 for user boxes. */
  score: number;
  detector: DetectorName;
}

/** Intersection over union; 0 when either box is empty. */
export function iou(a: Box, b: Box): number {
  const w = Math.min(a.left + a.width, b.left + b.width) - Math.max(a.left, b.left);
  const h = Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

export interface BoxMatch {
  /** Index into the detections. */
  detection: number;
  /** Index into the reference boxes. */
  truth: number;
  iou: number;
}

/**
 * Greedy one-to-one matching: all pairs with IoU >= minIou are taken in order of decreasing IoU,
 * skipping pairs whose detection or reference box is already used. Unlike score-ordered matching
 * this does not depend on how two detectors calibrate their scores, so their counts are comparable.
 */
export function matchBoxes(detections: readonly Box[], truth: readonly Box[], minIou = 0.5): BoxMatch[] {
  const pairs: BoxMatch[] = [];
  detections.forEach((d, i) => {
    truth.forEach((t, j) => {
      const v = iou(d, t);
      if (v >= minIou) pairs.push({ detection: i, truth: j, iou: v });
    });
  });
  pairs.sort((p, q) => q.iou - p.iou || p.detection - q.detection || p.truth - q.truth);
  const usedDet = new Set<number>();
  const usedTruth = new Set<number>();
  const matches: BoxMatch[] = [];
  for (const p of pairs) {
    if (usedDet.has(p.detection) || usedTruth.has(p.truth)) continue;
    usedDet.add(p.detection);
    usedTruth.add(p.truth);
    matches.push(p);
  }
  return matches;
}
