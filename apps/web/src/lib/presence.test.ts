import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createThrottle, initials, others, textColorOn } from './presence';

test('initials take the first letters of the first and last words', () => {
  assert.equal(initials('Calm Heron'), 'CH');
  assert.equal(initials('ada'), 'A');
  assert.equal(initials('  Mary Ann  Smith '), 'MS');
  assert.equal(initials(''), '?');
});

test('text on a colour is black on light colours and white on dark ones', () => {
  assert.equal(textColorOn('#ffee88'), '#000');
  assert.equal(textColorOn('#1a237e'), '#fff');
  assert.equal(textColorOn('nonsense'), '#fff');
});

test('others leaves you out', () => {
  const p = (id: string) => ({
    user: { id, displayName: id, color: '#000000' },
    role: 'EDITOR' as const,
    selectedLayerId: null,
    pointer: null,
    connections: 1,
  });
  assert.deepEqual(
    others({ meId: 'a', participants: [p('a'), p('b')] }).map((x) => x.user.id),
    ['b'],
  );
});

test('the throttle sends the first value at once and the latest one after the interval', () => {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void }> = [];
  const sent: number[] = [];
  const throttle = createThrottle<number>((v) => sent.push(v), 100, {
    now: () => now,
    setTimeout: (fn, ms) => timers.push({ at: now + ms, fn }),
    clearTimeout: () => undefined,
  });
  throttle.push(1);
  assert.deepEqual(sent, [1]);
  now = 10;
  throttle.push(2);
  throttle.push(3);
  assert.deepEqual(sent, [1], 'folded while the interval runs');
  assert.equal(timers.length, 1);
  now = 100;
  timers.shift()!.fn();
  assert.deepEqual(sent, [1, 3], 'the latest value goes when the interval ends');
  now = 150;
  throttle.push(4);
  assert.equal(timers.length, 1);
  now = 200;
  timers.shift()!.fn();
  assert.deepEqual(sent, [1, 3, 4]);
  now = 500;
  throttle.push(5);
  assert.deepEqual(sent, [1, 3, 4, 5], 'after a quiet spell the next value goes at once');
});
