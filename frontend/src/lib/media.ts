// Layout decisions that the markup (not only the stylesheet) depends on, in one place.
import { useCallback, useSyncExternalStore } from 'react';

/**
 * Phone width: the board shows one column at a time (tabs), agents and activity open from a
 * toggle. The stylesheet keys off the `app--compact` class this sets, not its own media query.
 */
export const COMPACT_QUERY = '(max-width: 720px)';

export function useMediaQuery(query: string): boolean {
  const subscribe = useCallback(
    (onChange: () => void) => {
      const m = window.matchMedia(query);
      m.addEventListener('change', onChange);
      return () => m.removeEventListener('change', onChange);
    },
    [query],
  );
  return useSyncExternalStore(
    subscribe,
    () => window.matchMedia(query).matches,
    () => false,
  );
}
