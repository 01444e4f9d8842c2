/**
 * The cluster bench's load client, in its own process: imports N scenes of a background + K objects
 * at once (importScene, one mutation each), follows every scene on graphql-ws and reports the time
 * from the first request to the last scene's RenderCompleted. Usage:
 *   node load-client.js URL TOKEN SCENES OBJECTS SEED   -> prints {"ms":..,"steps":..,"rendered":..,"cached":..}
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { CATS, gqlClient } from './client-kit.js';

const [url, token, scenesArg, objectsArg, seedArg] = process.argv.slice(2) as [string, string, string, string, string];
const scenes = Number(scenesArg);
const objects = Number(objectsArg);
const seed0 = Number(seedArg);
const IMPORT = 'mutation($d: JSONObject!) { importScene(document: $d) { id revision } }';
const EVENTS =
  'subscription($s: ID!) { sceneEvents(sceneId: $s, after: 0) { __typename revision ... on RenderCompleted { renderedSteps cachedSteps } } }';

const gql = gqlClient(url, token);

const client = createClient({
  url: `${url.replace('http', 'ws')}/graphql`,
  webSocketImpl: WebSocket,
  retryAttempts: 0,
  connectionParams: { authorization: `Bearer ${token}` },
});

async function one(i: number): Promise<{ rendered: number; cached: number }> {
  const seed = seed0 + i;
  const document = {
    format: 'strata-scene/1',
    title: `load ${seed}`,
    background: { style: ['day', 'dusk', 'night'][seed % 3], seed },
    layers: Array.from({ length: objects }, (_, l) => ({
      category: CATS[l % CATS.length],
      box: { x: 0.02 + l * (0.76 / Math.max(1, objects - 1)), y: 0.55, w: 0.22, h: 0.35 },
      appearanceSeed: seed * 10 + l,
      shape: { kind: 'GENERATED', seed: seed * 10 + l },
    })),
  };
  const { id, revision } = (await gql(IMPORT, { d: document })).importScene as { id: string; revision: number };
  return new Promise((resolve, reject) => {
    const stop = client.subscribe(
      { query: EVENTS, variables: { s: id } },
      {
        next: ({ data, errors }: any) => {
          if (errors) reject(new Error(JSON.stringify(errors)));
          const e = data?.sceneEvents;
          if (e?.__typename === 'RenderCompleted' && e.revision >= revision) {
            stop();
            resolve({ rendered: e.renderedSteps, cached: e.cachedSteps });
          }
        },
        error: reject,
        complete: () => {},
      },
    );
  });
}

// Connect first, so the clock measures the scenes, not the WebSocket handshake.
await new Promise<void>((resolve, reject) => {
  const stop = client.subscribe({ query: '{ __typename }' }, { next: () => {}, error: reject, complete: () => (stop(), resolve()) });
});
const started = performance.now();
const done = await Promise.all(Array.from({ length: scenes }, (_, i) => one(i)));
const ms = performance.now() - started;
await client.dispose();
process.stdout.write(
  JSON.stringify({
    ms,
    steps: scenes * (1 + objects),
    rendered: done.reduce((n, d) => n + d.rendered, 0),
    cached: done.reduce((n, d) => n + d.cached, 0),
  }),
);
