'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { useClient, type Client } from 'urql';
import { AcceptInviteDocument } from '@strata/schema/client';
import { ErrorNotice } from '@/components/ErrorNotice';
import { toUserError, type UserError } from '@/lib/errors';

type Outcome = { sceneId: string } | { error: UserError };

// One acceptance per token and page load (React's strict mode runs effects twice in development).
const accepting = new Map<string, Promise<Outcome>>();

function accept(client: Client, token: string): Promise<Outcome> {
  let pending = accepting.get(token);
  if (!pending) {
    pending = client
      .mutation(AcceptInviteDocument, { token })
      .toPromise()
      .then((result): Outcome => (result.data ? { sceneId: result.data.acceptInvite.id } : { error: toUserError(result.error!) }));
    accepting.set(token, pending);
  }
  return pending;
}

/** `/invite/<token>`: join the scene with the link's role, then open its editor. */
export function AcceptInvite({ token }: { token: string }) {
  const client = useClient();
  const router = useRouter();
  const [error, setError] = useState<UserError | null>(null);
  useEffect(() => {
    let current = true;
    void accept(client, token).then((outcome) => {
      if (!current) return;
      if ('sceneId' in outcome) router.replace(`/scenes/${encodeURIComponent(outcome.sceneId)}`);
      else setError(outcome.error);
    });
    return () => {
      current = false;
    };
  }, [client, token, router]);

  if (!error) {
    return (
      <p className="status" role="status">
        Joining the scene…
      </p>
    );
  }
  return (
    <div className="editor-failed invite-failed" data-testid="invite-failed">
      {error.code === 'NOT_FOUND' ? (
        <p className="notice notice-error" role="alert" data-code={error.code}>
          This invitation link was revoked or never existed. Ask the scene&apos;s owner for a new one.
        </p>
      ) : (
        <ErrorNotice error={error} />
      )}
      <Link href="/">Go to your scenes</Link>
    </div>
  );
}
