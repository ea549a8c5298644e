import assert from 'node:assert/strict';
import { test } from 'node:test';
import { iou, matchBoxes } from '../../src/detect/boxes.js';

const box = (left: number, top: number, width: number, height: number) => ({ left, top, width, height });

test('iou of identical, disjoint, touching and contained boxes', () => {
  assert.equal(iou(box(10, 10, 20, 20), box(10, 10, 20, 20)), 1);
  assert.equal(iou(box(0, 0, 10, 10), box(20, 20, 10, 10)), 0);
  assert.equal(iou(box(0, 0, 10, 10), box(10, 0, 10, 10)), 0, 'shared edge has no area');
  assert.equal(iou(box(0, 0, 10, 10), box(2, 2, 5, 5)), 25 / 100);
});

test('iou of half-overlapping boxes is 1/3', () => {
  assert.equal(iou(box(0, 0, 10, 10), box(5, 0, 10, 10)), 50 / 150);
  assert.equal(iou(box(5, 0, 10, 10), box(0, 0, 10, 10)), 50 / 150, 'symmetric');
});

test('iou of an empty box is 0', () => {
  assert.equal(iou(box(0, 0, 0, 0), box(0, 0, 0, 0)), 0);
  assert.equal(iou(box(0, 0, 0, 10), box(0, 0, 10, 10)), 0);
});

test('matchBoxes pairs each detection with at most one reference box and vice versa', () => {
  const truth = [box(0, 0, 10, 10), box(100, 100, 10, 10)];
  // Two detections on the first face: only the better one may count.
  const dets = [box(1, 0, 10, 10), box(0, 0, 10, 10), box(300, 300, 10, 10)];
  const m = matchBoxes(dets, truth);
  assert.deepEqual(m, [{ detection: 1, truth: 0, iou: 1 }]);
});

test('matchBoxes takes pairs in order of decreasing IoU', () => {
  // Detection 0 overlaps both references; giving it to reference 0 (its best) would leave detection 1
  // unmatched, but reference 1 is detection 0's best pair by IoU, so greedy-by-IoU matches both.
  const truth = [box(0, 0, 10, 10), box(2, 0, 10, 10)];
  const dets = [box(2, 0, 10, 10), box(0, 0, 10, 10)];
  const m = matchBoxes(dets, truth);
  assert.equal(m.length, 2);
  assert.deepEqual(
    m.map(({ detection, truth: t }) => [detection, t]),
    [
      [0, 1],
      [1, 0],
    ],
  );
});

test('matchBoxes respects the IoU threshold', () => {
  const truth = [box(0, 0, 10, 10)];
  const dets = [box(5, 0, 10, 10)]; // IoU 1/3
  assert.equal(matchBoxes(dets, truth).length, 0);
  assert.equal(matchBoxes(dets, truth, 0.3).length, 1);
  assert.deepEqual(matchBoxes([], truth), []);
  assert.deepEqual(matchBoxes(dets, []), []);
});
