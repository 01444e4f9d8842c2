'use client';

import Link from 'next/link';
import { useQuery } from 'urql';
import { MeDocument } from '@strata/schema/client';
import { Avatar } from './Avatar';
import { useIsClient } from './ClientOnly';

function Me() {
  const [me] = useQuery({ query: MeDocument });
  const user = me.data?.me;
  if (!user) return null;
  return (
    <Link href="/settings" className="user-menu" aria-label={`You: ${user.displayName}. Your name, colour and API tokens`}>
      <Avatar name={user.displayName} color={user.color} label={`${user.displayName} (you)`} size={26} />
      <span className="user-name">{user.displayName}</span>
    </Link>
  );
}

/** The header's "you": your avatar and name, linking to your settings. Browser only (it reads your session). */
export function UserMenu() {
  return useIsClient() ? <Me /> : null;
}
