import { createStore } from './store';

/**
 * The WebSocket's state as people see it: `connecting` before the first connection,
 * `live` while connected, `reconnecting` after a drop until the socket is back.
 */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting';

/** One store per page: every subscription shares the graphql-ws client, hence its state. */
export const connectionStore = createStore<ConnectionState>('connecting');
