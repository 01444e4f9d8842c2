'use client';

import { useSyncExternalStore, type ReactNode } from 'react';

const subscribeNever = () => () => {};

/** True once rendering in the browser (false during server rendering and hydration). */
export function useIsClient(): boolean {
  return useSyncExternalStore(
    subscribeNever,
    () => true,
    () => false,
  );
}

/**
 * Renders `children` only in the browser. The data views talk to the API through relative URLs
 * and a WebSocket, which exist only there; the server renders `fallback`.
 */
export function ClientOnly({ children, fallback }: { children: ReactNode; fallback: ReactNode }) {
  return useIsClient() ? children : fallback;
}
