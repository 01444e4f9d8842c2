'use client';

import { useState } from 'react';

/** Copy `text` to the clipboard; says "Copied" until it loses focus. `label` names what is copied. */
export function CopyButton({ text, label = 'Copy', copiedLabel = 'Copied' }: { text: string; label?: string; copiedLabel?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      onClick={() =>
        void navigator.clipboard?.writeText(text).then(
          () => setCopied(true),
          () => undefined,
        )
      }
      onBlur={() => setCopied(false)}
      aria-live="polite"
    >
      {copied ? copiedLabel : label}
    </button>
  );
}
