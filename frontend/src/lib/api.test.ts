import { describe, expect, it } from 'vitest';
import { ApiError, MAX_RETRY_AFTER_S, errorFromBody, parseRetryAfter } from './api';

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
