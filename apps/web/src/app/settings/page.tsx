import { ClientOnly } from '@/components/ClientOnly';
import { Settings } from '@/settings/Settings';

export const metadata = { title: 'You · Strata' };

export default function SettingsPage() {
  return (
    <ClientOnly fallback={<p className="status">Loading…</p>}>
      <Settings />
    </ClientOnly>
  );
}
