import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LossSchedule } from '../../src/train/schedule.js';

test('a loss rise of more than 25% halves the rate and points back to the best epoch', () => {
  const s = LossSchedule.start(0.005, 0.0001);
  assert.deepEqual(s.step(1, 2.0), { halve: false, newBest: true });
  assert.deepEqual(s.step(2, 1.5), { halve: false, newBest: true });
  assert.equal(s.step(3, 1.8).halve, false, '+20% is tolerated');
  const d = s.step(4, 2.3);
  assert.equal(d.halve, true);
  assert.match(d.reason ?? '', /more than 25%/);
  assert.equal(s.state.lr, 0.0025);
  assert.equal(s.state.bestLossEpoch, 2);
});

test('more than 5 rises in a row halve the rate even when each is small', () => {
  const s = LossSchedule.start(0.004, 0.0001);
  let loss = 1.0;
  s.step(1, loss);
  const halvedAt: number[] = [];
  for (let epoch = 2; epoch <= 8; epoch++) {
    loss *= 1.01;
    if (s.step(epoch, loss).halve) halvedAt.push(epoch);
  }
  assert.deepEqual(halvedAt, [7], 'the sixth rise in a row (epoch 7) triggers it');
  assert.equal(s.state.lr, 0.002);
});

test('the rate never goes below its floor', () => {
  const s = LossSchedule.start(0.0003, 0.0001);
  s.step(1, 1);
  s.step(2, 2);
  s.step(3, 1);
  s.step(4, 3);
  assert.equal(s.state.lr, 0.0001);
});
