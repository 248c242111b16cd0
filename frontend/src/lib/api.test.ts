import { describe, expect, it } from 'vitest';
import { ApiError, MAX_RETRY_AFTER_S, errorFromBody, getStoredUser, parseRetryAfter, storeSession } from './api';
import { clockOffset, noteServerDate } from './clock';

describe('errorFromBody', () => {
  it('keeps the code, message and field details of the API error shape', () => {
    const err = errorFromBody(400, {
      error: { code: 'validation_failed', message: 'invalid task', details: [{ field: 'title', message: 'must be 1..200 characters' }, { bogus: 1 }] },
    });
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(400);
    expect(err.code).toBe('validation_failed');
    expect(err.message).toBe('invalid task');
    expect(err.details).toEqual([{ field: 'title', message: 'must be 1..200 characters' }]);
  });

  it('copes with bodies that are not the API shape', () => {
    const err = errorFromBody(502, null);
    expect(err.code).toBe('error');
    expect(err.message).toContain('502');
    expect(err.details).toEqual([]);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter(' 7 ', now)).toBe(7);
    expect(parseRetryAfter('0', now)).toBe(1);
  });

  it('reads an HTTP date', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:42 GMT', now)).toBe(42);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(1);
  });

  it('bounds what it is given', () => {
    expect(parseRetryAfter('999999999999', now)).toBe(MAX_RETRY_AFTER_S);
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
    expect(parseRetryAfter('1'.repeat(100), now)).toBeNull();
  });

  it('travels with the error', () => {
    const err = errorFromBody(429, { error: { code: 'rate_limited', message: 'too many requests; retry in 12 s' } }, 12);
    expect(err.retryAfter).toBe(12);
    expect(errorFromBody(400, null).retryAfter).toBeNull();
  });
});

describe('refusals', () => {
  it('carry the holder, the blockers, and the current task of a 412', () => {
    const held = errorFromBody(409, { error: { code: 'held', message: 'm', details: [], holder: 'agent-nova', leaseExpiresAt: 123 } });
    expect(held.refusal).toEqual({ holder: 'agent-nova', leaseExpiresAt: 123 });
    const blocked = errorFromBody(409, { error: { code: 'blocked', message: 'm', details: [], blockers: ['task-a', 7] } });
    expect(blocked.refusal.blockers).toEqual(['task-a']);
    const task = { id: 'task-a', title: 'T', version: 5 };
    const stale = errorFromBody(412, { error: { code: 'precondition_failed', message: 'm', details: [] }, task });
    expect(stale.refusal.current).toEqual(task);
    expect(errorFromBody(412, { error: { code: 'precondition_failed', message: 'm' }, task: { id: 'x' } }).refusal.current).toBeUndefined();
  });
});

describe('the server clock', () => {
  it('follows a server clock that is off, and ignores what is within the header precision', () => {
    const local = Date.parse('2026-01-01T00:00:00Z');
    noteServerDate('Thu, 01 Jan 2026 00:10:00 GMT', local, local + 100);
    expect(Math.round(clockOffset() / 1000)).toBe(600);
    noteServerDate('Thu, 01 Jan 2026 00:00:01 GMT', local, local + 100);
    expect(clockOffset()).toBe(0);
    noteServerDate('garbage', local, local);
    expect(clockOffset()).toBe(0);
  });
});

describe('the stored session', () => {
  it('counts sessions stored before the operator flag as the operator’s (only the password signs in)', () => {
    const store = new Map<string, string>();
    const previous = globalThis.localStorage;
    globalThis.localStorage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    } as Storage;
    try {
      store.set('mc.user', JSON.stringify({ id: 'agent-patch', name: 'Patch', role: 'Dev' }));
      expect(getStoredUser()?.operator).toBe(true);
      storeSession('t', { id: 'agent-nova', name: 'Nova', role: 'Research', operator: false });
      expect(getStoredUser()?.operator).toBe(false);
      store.set('mc.user', '{not json');
      expect(getStoredUser()).toBeNull();
    } finally {
      globalThis.localStorage = previous;
    }
  });
});
