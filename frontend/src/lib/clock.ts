// The time as the server sees it, and a shared ticking clock for the components that count
// (lease countdowns, "last seen"). Leases and presence are set by the server's clock: a browser
// whose clock is off by minutes would otherwise show a lease as expired, or hours left.
import { useSyncExternalStore } from 'react';

/** Offsets smaller than this are noise: `Date` has whole seconds, and the request takes time. */
const MIN_OFFSET_MS = 2000;

let offsetMs = 0;

/**
 * Learns the server's clock from a response's `Date` header, sent between `sentAt` and
 * `receivedAt` (local epoch ms). Ignores offsets within the header's own precision.
 */
export function noteServerDate(date: string | null, sentAt: number, receivedAt: number): void {
  if (!date || date.length > 64) return;
  const server = Date.parse(date);
  if (Number.isNaN(server)) return;
  // `Date` is truncated to the second: the server's time was in [server, server + 1000).
  const offset = server + 500 - (sentAt + receivedAt) / 2;
  const slack = MIN_OFFSET_MS + (receivedAt - sentAt) / 2;
  offsetMs = Math.abs(offset) > slack ? Math.round(offset) : 0;
}

/** Now, on the server's clock (epoch ms). */
export function serverNow(): number {
  return Date.now() + offsetMs;
}

export function clockOffset(): number {
  return offsetMs;
}

// One timer per period, however many components count with it.
const tickers = new Map<number, { now: number; listeners: Set<() => void>; timer: ReturnType<typeof setInterval> | null }>();

function ticker(periodMs: number) {
  let t = tickers.get(periodMs);
  if (!t) {
    t = { now: serverNow(), listeners: new Set(), timer: null };
    tickers.set(periodMs, t);
  }
  return t;
}

function subscribe(periodMs: number, listener: () => void): () => void {
  const t = ticker(periodMs);
  t.listeners.add(listener);
  if (!t.timer) {
    t.now = serverNow();
    t.timer = setInterval(() => {
      t.now = serverNow();
      t.listeners.forEach((l) => l());
    }, periodMs);
  }
  return () => {
    t.listeners.delete(listener);
    if (t.listeners.size === 0 && t.timer) {
      clearInterval(t.timer);
      t.timer = null;
    }
  };
}

const subscribers = new Map<number, (listener: () => void) => () => void>();

/** The server's time, re-rendering the caller every `periodMs` (one shared timer per period). */
export function useClock(periodMs: number): number {
  let sub = subscribers.get(periodMs);
  if (!sub) {
    sub = (listener) => subscribe(periodMs, listener);
    subscribers.set(periodMs, sub);
  }
  return useSyncExternalStore(
    sub,
    () => ticker(periodMs).now,
    () => ticker(periodMs).now,
  );
}
