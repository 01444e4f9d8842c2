/**
 * The cluster bench's latency client, in its own process: the same scene as scene-client.js (a
 * background + 8 objects, one mutation after another, seeds from the run number) and the same
 * figure, first mutation to last frame on its graphql-ws subscriber, plus where the time went: each
 * mutation's round trip, and the last mutation's answer to the last frame. Usage:
 *   node latency-client.js URL TOKEN RUNS [SEED_OFFSET]   -> prints [{"total":..,"mutations":[..],"tail":..}, ...]
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { CATS, ADD, gqlClient } from './client-kit.js';

const [url, token, runsArg, offsetArg] = process.argv.slice(2) as [string, string, string, string?];
/** Added to every seed, so a second series on the same server renders afresh (steps are content-addressed). */
const offset = Number(offsetArg ?? 0);

const gql = gqlClient(url, token);

async function oneScene(run: number): Promise<{ total: number; mutations: number[]; tail: number }> {
  const client = createClient({
    url: `${url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  const mutations: number[] = [];
  const started = performance.now();
  const id = (
    await gql('mutation($seed: Int!) { createScene(input: { title: "latency", style: "day", seed: $seed }) { id } }', {
      seed: offset + 1000 + run,
    })
  ).createScene.id as string;
  mutations.push(performance.now() - started);
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
  let answered = 0;
  for (let i = 0; i < 8; i++) {
    const sent = performance.now();
    await gql(ADD, { s: id, c: CATS[i], x: 0.02 + i * 0.09, seed: offset + 5000 + run * 10 + i });
    answered = performance.now();
    mutations.push(answered - sent);
  }
  const last = await done;
  await client.dispose();
  return { total: last - started, mutations, tail: last - answered };
}

const runs: { total: number; mutations: number[]; tail: number }[] = [];
for (let run = 0; run < Number(runsArg); run++) runs.push(await oneScene(run));
process.stdout.write(JSON.stringify(runs));
