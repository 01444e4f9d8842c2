import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boxFromCorners, dragBox, isDrawable, snapBox } from './box';

test('snapBox rounds to canvas pixels, keeps two pixels at least and stays inside', () => {
  assert.deepEqual(snapBox({ x: 0.501, y: -0.1, w: 0.001, h: 2 }, 64), { x: 32 / 64, y: 0, w: 2 / 64, h: 1 });
  assert.deepEqual(snapBox({ x: 0.9, y: 0.9, w: 0.3, h: 0.3 }, 64), { x: 45 / 64, y: 45 / 64, w: 19 / 64, h: 19 / 64 });
});

test('dragging the body moves inside the canvas; dragging a corner resizes from the opposite one', () => {
  const box = { x: 0.5, y: 0.5, w: 0.25, h: 0.25 };
  assert.deepEqual(dragBox(box, 'move', { x: 1, y: -1 }), { x: 0.75, y: 0, w: 0.25, h: 0.25 });
  assert.deepEqual(dragBox(box, 'nw', { x: -0.25, y: -0.25 }), { x: 0.25, y: 0.25, w: 0.5, h: 0.5 });
  assert.deepEqual(dragBox(box, 'se', { x: -0.5, y: 0 }), { x: 0.25, y: 0.5, w: 0.25, h: 0.25 }, 'dragging past the other side flips');
});

test('a box drawn by a click is too small to place', () => {
  assert.equal(isDrawable(boxFromCorners({ x: 0.5, y: 0.5 }, { x: 0.51, y: 0.6 }), 64), false);
  assert.equal(isDrawable(boxFromCorners({ x: 0.5, y: 0.5 }, { x: 0.6, y: 0.6 }), 64), true);
});
