/**
 * The bench's client, in its own process like a real third-party client: builds a scene of a
 * background + 8 objects with sequential mutations and reports, per run, the time from the first
 * mutation to the last frame on its graphql-ws subscriber. Usage: node scene-client.js URL TOKEN RUNS
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { CATS, ADD, gqlClient } from './client-kit.js';

const [url, token, runsArg] = process.argv.slice(2) as [string, string, string];

const gql = gqlClient(url, token);

async function oneScene(run: number): Promise<number> {
  const client = createClient({
    url: `${url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  const started = performance.now();
  const id = (
    await gql('mutation($seed: Int!) { createScene(input: { title: "latency", style: "day", seed: $seed }) { id } }', { seed: 1000 + run })
  ).createScene.id as string;
  const done = new Promise<number>((resolve) => {
    client.subscribe(
      {
        query: 'subscription($s: ID!) { sceneEvents(sceneId: $s, after: 0) { __typename revision ... on FrameRendered { step } } }',
        variables: { s: id },
      },
      {
        next: ({ data }: any) => {
          const e = data?.sceneEvents;
          if (e?.__typename === 'FrameRendered' && e.step === 8 && e.revision === 9) resolve(performance.now());
        },
        error: () => {},
        complete: () => {},
      },
    );
  });
  for (let i = 0; i < 8; i++) await gql(ADD, { s: id, c: CATS[i], x: 0.02 + i * 0.09, seed: 5000 + run * 10 + i });
  const ms = (await done) - started;
  await client.dispose();
  return ms;
}

const times: number[] = [];
for (let run = 0; run < Number(runsArg); run++) times.push(await oneScene(run));
process.stdout.write(JSON.stringify(times));
