import { ClientOnly } from '@/components/ClientOnly';
import { Gallery } from '@/gallery/Gallery';

export default function GalleryPage() {
  return (
    <ClientOnly fallback={<p className="status">Loading scenes…</p>}>
      <Gallery />
    </ClientOnly>
  );
}
