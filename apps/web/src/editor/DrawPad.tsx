'use client';

import { useRef, useState, type PointerEvent } from 'react';

const BRUSH = 0.06;

/** The drawing as base64 PNG bytes (white on transparent: the API reads alpha >= 128 as inside). */
function toBase64Png(canvas: HTMLCanvasElement): string {
  return canvas.toDataURL('image/png').split(',')[1] ?? '';
}

/** A freehand mask: draw with the pointer, or start from an ellipse (for keyboard users), then use it. */
export function DrawPad({ size, onUse }: { size: number; onUse: (base64Png: string) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const last = useRef<{ x: number; y: number } | null>(null);
  const [empty, setEmpty] = useState(true);

  function context() {
    const ctx = canvas.current?.getContext('2d');
    if (ctx) {
      ctx.fillStyle = '#fff';
      ctx.strokeStyle = '#fff';
      ctx.lineCap = 'round';
      ctx.lineWidth = size * BRUSH * 2;
    }
    return ctx;
  }

  function point(event: PointerEvent<HTMLCanvasElement>) {
    const rect = event.currentTarget.getBoundingClientRect();
    return { x: ((event.clientX - rect.left) / rect.width) * size, y: ((event.clientY - rect.top) / rect.height) * size };
  }

  function stroke(event: PointerEvent<HTMLCanvasElement>) {
    const ctx = context();
    const to = point(event);
    if (!ctx) return;
    const from = last.current ?? to;
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
    last.current = to;
    setEmpty(false);
  }

  function fillEllipse() {
    const ctx = context();
    if (!ctx) return;
    ctx.beginPath();
    ctx.ellipse(size / 2, size / 2, size * 0.4, size * 0.3, 0, 0, Math.PI * 2);
    ctx.fill();
    setEmpty(false);
  }

  function clear() {
    context()?.clearRect(0, 0, size, size);
    setEmpty(true);
  }

  return (
    <div className="draw-pad">
      <canvas
        ref={canvas}
        width={size}
        height={size}
        className="draw-canvas"
        role="img"
        aria-label="Drawing area for the object's shape"
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          last.current = null;
          stroke(e);
        }}
        onPointerMove={(e) => e.buttons === 1 && stroke(e)}
        onPointerUp={() => (last.current = null)}
      />
      <div className="button-row">
        <button type="button" onClick={fillEllipse}>
          Fill an ellipse
        </button>
        <button type="button" onClick={clear}>
          Clear
        </button>
        <button type="button" className="primary" disabled={empty} onClick={() => canvas.current && onUse(toBase64Png(canvas.current))}>
          Use drawing
        </button>
      </div>
    </div>
  );
}
