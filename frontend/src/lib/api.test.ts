import { describe, expect, it } from 'vitest';
import { ApiError, errorFromBody } from './api';

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
