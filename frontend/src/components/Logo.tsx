export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg className="logo" width={size} height={size} viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="8" fill="var(--accent)" />
      <rect x="7" y="8" width="5" height="16" rx="1.5" fill="#fff" opacity="0.95" />
      <rect x="13.5" y="8" width="5" height="11" rx="1.5" fill="#fff" opacity="0.75" />
      <rect x="20" y="8" width="5" height="7" rx="1.5" fill="#fff" opacity="0.55" />
    </svg>
  );
}
