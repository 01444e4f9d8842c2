'use client';

import { useState, type FormEvent } from 'react';
import type { LayerFieldsFragment } from '@strata/schema/client';
import { ErrorNotice } from '@/components/ErrorNotice';
import { toPixels, type Box } from '@/lib/box';
import type { UserError } from '@/lib/errors';
import { useEditor } from './EditorContext';

const FIELDS = [
  { key: 'x', label: 'Left' },
  { key: 'y', label: 'Top' },
  { key: 'w', label: 'Width' },
  { key: 'h', label: 'Height' },
] as const;

/** The selected object's box in canvas pixels; the server judges the values and names a bad field. */
export function BoxForm({ layer, resolution }: { layer: LayerFieldsFragment; resolution: number }) {
  const { actions } = useEditor();
  const pixels = toPixels(layer.object.box, resolution);
  const [values, setValues] = useState<Record<keyof Box, string>>(() => ({
    x: String(pixels.x),
    y: String(pixels.y),
    w: String(pixels.w),
    h: String(pixels.h),
  }));
  const [error, setError] = useState<UserError | null>(null);
  const badField = error?.field?.split('.').pop() ?? null;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const read = (key: keyof Box) => Number(values[key]) / resolution;
    const box: Box = { x: read('x'), y: read('y'), w: read('w'), h: read('h') };
    setError(await actions.updateObject(layer.id, { box }, { quiet: true }));
  }

  return (
    <form className="box-form" onSubmit={submit} noValidate aria-label="Box in pixels">
      <fieldset>
        <legend>Box (pixels of {resolution})</legend>
        {FIELDS.map(({ key, label }) => (
          <label key={key}>
            {label}
            <input
              type="number"
              inputMode="decimal"
              name={key}
              value={values[key]}
              aria-invalid={badField === key}
              onChange={(e) => setValues({ ...values, [key]: e.target.value })}
            />
          </label>
        ))}
        <button type="submit">Apply box</button>
      </fieldset>
      <ErrorNotice error={error} />
    </form>
  );
}
