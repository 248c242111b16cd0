// Phone width: the agents panel and the activity feed wait behind a toggle and open as a sheet
// in place of the board. This hook holds that state: open or not, focus going in and back out,
// the board's scroll position kept, and a dot on the toggle for activity not yet seen.
import { useCallback, useEffect, useRef, useState } from 'react';

export function useSideSheet(compact: boolean, newestEvent: string | null, loaded: boolean) {
  const [open, setOpen] = useState(false);
  const toggleRef = useRef<HTMLButtonElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const boardScroll = useRef(0);
  const sheet = compact && open;

  useEffect(() => {
    if (!compact) setOpen(false);
  }, [compact]);

  // The newest feed line seen with the sheet open (or at load): newer ones put a dot on the toggle.
  const [seenEvent, setSeenEvent] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    if (loaded && (seenEvent === undefined || sheet) && seenEvent !== newestEvent) setSeenEvent(newestEvent);
  }, [loaded, sheet, newestEvent, seenEvent]);
  const unseen = seenEvent !== undefined && newestEvent !== null && newestEvent !== seenEvent;

  const openSheet = useCallback(() => {
    boardScroll.current = window.scrollY;
    setOpen(true);
  }, []);

  const closeSheet = useCallback(() => {
    setOpen(false);
    requestAnimationFrame(() => {
      window.scrollTo(0, boardScroll.current);
      toggleRef.current?.focus({ preventScroll: true });
    });
  }, []);

  useEffect(() => {
    if (!sheet) return;
    window.scrollTo(0, 0);
    headingRef.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      // Escape closes a task dialog opened from the feed first.
      if (e.key === 'Escape' && !document.querySelector('dialog[open]')) closeSheet();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [sheet, closeSheet]);

  return { open, sheet, unseen, openSheet, closeSheet, toggleRef, headingRef };
}
