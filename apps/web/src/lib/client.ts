import { cacheExchange, createClient, fetchExchange, subscriptionExchange, type Client, type SSRExchange } from 'urql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { connectionStore } from './connection';
import { graphqlHttpUrl, graphqlWsUrl } from './endpoints';
import { createResumablePayload } from './resumable';

/** Wait between reconnect attempts: quick at first, at most 3 s, so a dropped stream resumes soon. */
async function retryWait(retries: number): Promise<void> {
  const ms = Math.min(250 * 2 ** retries, 3000) + Math.random() * 250;
  await new Promise((resolve) => setTimeout(resolve, ms));
}

function closeCode(event: unknown): number | null {
  return event && typeof event === 'object' && 'code' in event && typeof event.code === 'number' ? event.code : null;
}

/** The graphql-ws client; it reports its state to {@link connectionStore}. */
export function createStrataWsClient(): WsClient {
  let everConnected = false;
  const client = createWsClient({
    url: graphqlWsUrl,
    lazy: true,
    keepAlive: 10_000,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait,
    on: {
      connected: () => {
        everConnected = true;
        connectionStore.setState('live');
      },
      // 1000 is the client closing an unused socket (no scene open); anything else is a drop.
      closed: (event) => connectionStore.setState(everConnected && closeCode(event) !== 1000 ? 'reconnecting' : 'connecting'),
    },
  });
  return client;
}

/**
 * The urql client: queries and mutations over HTTP POST (Apollo's CSRF check refuses urql's
 * default GET), subscriptions over graphql-ws with payloads that resume from the last seen `seq`.
 */
export function createStrataClient(ssr: SSRExchange, ws: WsClient | null): Client {
  const exchanges = [cacheExchange, ssr, fetchExchange];
  if (ws) {
    exchanges.push(
      subscriptionExchange({
        forwardSubscription(request) {
          const payload = createResumablePayload(request);
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(payload, {
                next: (result) => {
                  payload.track(result);
                  sink.next(result as Parameters<typeof sink.next>[0]);
                },
                error: (error) => sink.error(error),
                complete: () => sink.complete(),
              });
              return { unsubscribe };
            },
          };
        },
      }),
    );
  }
  return createClient({ url: graphqlHttpUrl(), exchanges, preferGetMethod: false, suspense: false, requestPolicy: 'cache-and-network' });
}
