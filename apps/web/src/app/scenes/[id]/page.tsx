import { ClientOnly } from '@/components/ClientOnly';
import { Editor } from '@/editor/Editor';

export default async function ScenePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <ClientOnly fallback={<p className="status">Loading the editor…</p>}>
      <Editor sceneId={decodeURIComponent(id)} />
    </ClientOnly>
  );
}
