// How the board words and shows things: which badges say something, counts that follow the
// filters, waits and the live indicator's labels. Pure, so the wording is unit-tested in one place.
import type { ConnectionStatus } from './socket';
import type { Priority } from './types';

/** Medium is what every task gets by default, so its badge says nothing and is not shown. */
export function showsPriority(priority: Priority | null | undefined): priority is Priority {
  return !!priority && priority !== 'medium';
}

/** "12 tasks", or "3 of 12 tasks" while a filter hides some of them. */
export function countLabel(shown: number, total: number, filtering: boolean): string {
  const noun = total === 1 ? 'task' : 'tasks';
  return filtering && shown !== total ? `${shown} of ${total} ${noun}` : `${total} ${noun}`;
}

/** "45 s", "2 min 5 s", "1 h": how long until something may be tried again. */
export function formatWait(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    const rest = s % 60;
    return rest === 0 ? `${m} min` : `${m} min ${rest} s`;
  }
  return `${Math.round(s / 3600)} h`;
}

/** The live indicator: a short label for the top bar and the sentence that explains it. */
export const LIVE_TEXT: Record<ConnectionStatus, { label: string; description: string }> = {
  connected: {
    label: 'Live',
    description: 'Live: connected to the server. Changes made by agents and other people appear on this board as they happen.',
  },
  connecting: {
    label: 'Connecting…',
    description: 'Connecting to the server for live updates. The board loads meanwhile; changes appear live once connected.',
  },
  disconnected: {
    label: 'Reconnecting…',
    description:
      'Reconnecting: the live connection to the server is down, so changes made elsewhere do not show yet. It retries on its own and brings the board up to date when it is back.',
  },
};
