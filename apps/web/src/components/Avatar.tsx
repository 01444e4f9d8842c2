import { initials, textColorOn } from '@/lib/presence';

/** A person's initials on their colour; the name is the accessible label and the tooltip. */
export function Avatar({ name, color, label = name, size = 28 }: { name: string; color: string; label?: string; size?: number }) {
  return (
    <span
      className="avatar"
      role="img"
      aria-label={label}
      title={label}
      style={{ background: color, color: textColorOn(color), width: size, height: size, fontSize: size * 0.42 }}
    >
      {initials(name)}
    </span>
  );
}
