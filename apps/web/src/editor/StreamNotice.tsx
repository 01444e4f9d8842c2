'use client';

import { connectionStore, type ConnectionState } from '@/lib/connection';
import { useStoreSelector } from '@/lib/store';

const isReconnecting = (state: ConnectionState) => state === 'reconnecting';

/** Over the canvas, where people look: the stream is down and being resumed. */
export function StreamNotice() {
  const reconnecting = useStoreSelector(connectionStore, isReconnecting);
  if (!reconnecting) return null;
  return (
    <p className="stream-notice" aria-hidden>
      Connection lost. Reconnecting; no frame will be missed.
    </p>
  );
}
