import type { FrameFieldsFragment } from '@strata/schema/client';

/** A frame as a crisp, scaled-up thumbnail; a placeholder until it is painted. */
export function FrameImage({ frame, size, alt }: { frame: FrameFieldsFragment | null; size: number; alt: string }) {
  if (!frame)
    return <span className="thumb thumb-empty" style={{ width: size, height: size }} role="img" aria-label={`${alt} (not painted yet)`} />;
  // A plain <img>: tiny immutable PNGs, shown pixelated; next/image would re-encode them.
  return <img className="thumb" src={frame.url} width={size} height={size} alt={alt} />;
}
