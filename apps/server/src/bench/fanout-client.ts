/**
 * The cluster bench's watchers, in their own process: N graphql-ws clients (one WebSocket each) follow
 * one scene from `after: 0`, stamping every event with the wall clock (performance.timeOrigin + now:
 * comparable across processes on one host). Prints `ready` once every watcher has caught up to
 * READY_SEQ, and `done` once every watcher saw RenderCompleted of FINAL_REVISION (or TIMEOUT_MS
 * passed), after writing the receipts to OUT. Usage:
 *   node fanout-client.js URL TOKEN SCENE N READY_SEQ FINAL_REVISION OUT [TIMEOUT_MS]
 */
import { writeFileSync } from 'node:fs';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, sceneId, countArg, readyArg, finalArg, out, timeoutArg] = process.argv.slice(2) as string[];
const count = Number(countArg);
const readySeq = Number(readyArg);
const finalRevision = Number(finalArg);
const timeoutMs = Number(timeoutArg ?? 120_000);
const EVENTS = 'subscription($s: ID!) { sceneEvents(sceneId: $s, after: 0) { __typename seq revision ... on FrameRendered { step } } }';

/** One receipt: seq, kind (F frame, C RenderCompleted, S other), revision, step (-1), epoch ms. */
type Receipt = [number, string, number, number, number];
interface Watcher {
  receipts: Receipt[];
  maxSeq: number;
  completed: boolean;
  error: string | null;
}

const now = () => performance.timeOrigin + performance.now();
const watchers: Watcher[] = [];
const clients: Client[] = [];
let readySent = false;
let finished = false;

function check(): void {
  if (!readySent && watchers.every((w) => w.maxSeq >= readySeq || w.error)) {
    readySent = true;
    process.stdout.write('ready\n');
  }
  if (readySent && watchers.every((w) => w.completed || w.error)) void finish(false);
}

async function finish(timedOut: boolean): Promise<void> {
  if (finished) return;
  finished = true;
  writeFileSync(out!, JSON.stringify({ timedOut, watchers }));
  await Promise.all(clients.map((c) => c.dispose()));
  process.stdout.write('done\n');
  process.exit(0);
}

for (let i = 0; i < count; i++) {
  const w: Watcher = { receipts: [], maxSeq: 0, completed: false, error: null };
  watchers.push(w);
  const client = createClient({
    url: `${url!.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  clients.push(client);
  client.subscribe(
    { query: EVENTS, variables: { s: sceneId } },
    {
      next: ({ data, errors }: any) => {
        const t = now();
        if (errors) {
          w.error = JSON.stringify(errors);
          return check();
        }
        const e = data?.sceneEvents;
        if (!e || e.__typename === 'PresenceChanged') return;
        const kind = e.__typename === 'FrameRendered' ? 'F' : e.__typename === 'RenderCompleted' ? 'C' : 'S';
        w.receipts.push([e.seq, kind, e.revision, e.step ?? -1, t]);
        if (e.seq > w.maxSeq) w.maxSeq = e.seq;
        if (kind === 'C' && e.revision >= finalRevision) w.completed = true;
        check();
      },
      error: (error: unknown) => {
        const close = error as { code?: number; reason?: string };
        w.error = error instanceof Error ? error.message : `closed ${close?.code ?? ''} ${close?.reason ?? ''}`.trim();
        check();
      },
      complete: () => {
        if (!w.completed) w.error ??= 'stream completed early';
        check();
      },
    },
  );
}
setTimeout(() => void finish(true), timeoutMs).unref();
