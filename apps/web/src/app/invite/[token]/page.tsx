import { ClientOnly } from '@/components/ClientOnly';
import { AcceptInvite } from '@/components/AcceptInvite';

export const metadata = { title: 'Invitation · Strata' };

export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return (
    <ClientOnly fallback={<p className="status">Opening the invitation…</p>}>
      <AcceptInvite token={decodeURIComponent(token)} />
    </ClientOnly>
  );
}
