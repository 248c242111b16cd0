import { avatarColor, initials, textOn } from '../lib/colors';

export function Avatar({ id, name, color, size = 22 }: { id: string; name: string; color: string | null | undefined; size?: number }) {
  const bg = avatarColor(id, color);
  return (
    <span
      className="avatar"
      aria-hidden="true"
      style={{ background: bg, color: textOn(bg), width: size, height: size, fontSize: Math.round(size * 0.42) }}
    >
      {initials(name)}
    </span>
  );
}
