import { useEffect, useRef, useState } from 'react';
import { LIVE_TEXT } from '../lib/present';
import type { ConnectionStatus } from '../lib/socket';

/**
 * "Live" / "Reconnecting…" in the top bar. Its meaning is its accessible description, the
 * tooltip on hover, and a note that opens on click or tap (touch screens have no hover).
 */
export function LiveIndicator({ status }: { status: ConnectionStatus }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLSpanElement>(null);
  const text = LIVE_TEXT[status];

  useEffect(() => {
    if (!open) return;
    const onPointer = (e: PointerEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  return (
    <span className="live" ref={ref}>
      <button
        type="button"
        className={`conn conn--${status}`}
        data-testid="connection-status"
        data-state={status}
        title={text.description}
        aria-describedby="live-help"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
      >
        <span className="conn__dot" aria-hidden="true" />
        <span className="conn__label">{text.label}</span>
      </button>
      <span id="live-help" className={open ? 'live__help' : 'sr-only'} data-testid="connection-help">
        {text.description}
      </span>
    </span>
  );
}
