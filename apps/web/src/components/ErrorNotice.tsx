import type { UserError } from '@/lib/errors';

/** An error sentence, announced to screen readers; `data-code` lets tests and styles branch on the code. */
export function ErrorNotice({ error, onDismiss }: { error: UserError | null; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <p className="notice notice-error" role="alert" data-code={error.code}>
      <span>{error.sentence}</span>
      {onDismiss && (
        <button type="button" className="link-button" onClick={onDismiss} aria-label="Dismiss message">
          ✕
        </button>
      )}
    </p>
  );
}
