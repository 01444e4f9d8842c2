'use client';

import { useState, type ReactNode } from 'react';
import { UrqlProvider, ssrExchange } from '@urql/next';
import { createStrataClient, createStrataWsClient } from '@/lib/client';

/** The urql client for the whole app; the WebSocket client exists only in the browser. */
export function Providers({ children }: { children: ReactNode }) {
  const [{ client, ssr }] = useState(() => {
    const isClient = typeof window !== 'undefined';
    const ssr = ssrExchange({ isClient });
    return { ssr, client: createStrataClient(ssr, isClient ? createStrataWsClient() : null) };
  });
  return (
    <UrqlProvider client={client} ssr={ssr}>
      {children}
    </UrqlProvider>
  );
}
