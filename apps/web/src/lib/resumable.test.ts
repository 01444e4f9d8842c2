import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createResumablePayload } from './resumable';

test('the payload sent after a reconnect asks for events after the newest seq delivered', () => {
  const payload = createResumablePayload({ query: 'subscription', variables: { sceneId: 's', after: 4 } });
  assert.deepEqual(JSON.parse(JSON.stringify(payload)).variables, { sceneId: 's', after: 4 });
  payload.track({ data: { sceneEvents: { seq: 5 } } });
  payload.track({ data: { sceneEvents: { seq: 7 } } });
  payload.track({ data: { sceneEvents: { seq: 7 } } }); // presence repeats the latest seq
  assert.deepEqual(JSON.parse(JSON.stringify(payload)).variables, { sceneId: 's', after: 7 });
});

test('a subscription without a cursor is sent as it is', () => {
  const payload = createResumablePayload({ query: 'subscription', variables: { id: 1 } });
  payload.track({ data: { other: { seq: 3 } } });
  assert.deepEqual(payload.variables, { id: 1 });
});
