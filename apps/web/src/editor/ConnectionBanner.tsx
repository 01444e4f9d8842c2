'use client';

import { useStoreSelector } from '@/lib/store';
import { connectionStore, type ConnectionState } from '@/lib/connection';

const identity = (state: ConnectionState) => state;

const TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
};

/** The stream's state: a small "Live" badge, or a banner while reconnecting. */
export function ConnectionBanner() {
  const state = useStoreSelector(connectionStore, identity);
  return (
    <p className={`connection connection-${state}`} role="status" data-state={state}>
      {TEXT[state]}
    </p>
  );
}
