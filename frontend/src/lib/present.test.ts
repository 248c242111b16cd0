import { describe, expect, it } from 'vitest';
import { LIVE_TEXT, countLabel, formatWait, showsPriority } from './present';

describe('showsPriority', () => {
  it('hides the default medium badge and shows the ones that say something', () => {
    expect(showsPriority('medium')).toBe(false);
    expect(showsPriority(null)).toBe(false);
    expect(showsPriority(undefined)).toBe(false);
    expect(showsPriority('critical')).toBe(true);
    expect(showsPriority('high')).toBe(true);
    expect(showsPriority('low')).toBe(true);
  });
});

describe('countLabel', () => {
  it('counts all tasks without a filter', () => {
    expect(countLabel(12, 12, false)).toBe('12 tasks');
    expect(countLabel(1, 1, false)).toBe('1 task');
    expect(countLabel(0, 0, false)).toBe('0 tasks');
  });

  it('says how many of them a filter shows', () => {
    expect(countLabel(3, 12, true)).toBe('3 of 12 tasks');
    expect(countLabel(0, 1, true)).toBe('0 of 1 task');
    expect(countLabel(12, 12, true)).toBe('12 tasks');
  });
});

describe('formatWait', () => {
  it('reads naturally from seconds to hours', () => {
    expect(formatWait(0)).toBe('0 s');
    expect(formatWait(1)).toBe('1 s');
    expect(formatWait(2.2)).toBe('3 s');
    expect(formatWait(59)).toBe('59 s');
    expect(formatWait(60)).toBe('1 min');
    expect(formatWait(125)).toBe('2 min 5 s');
    expect(formatWait(3600)).toBe('1 h');
  });
});

describe('LIVE_TEXT', () => {
  it('explains every connection state', () => {
    expect(LIVE_TEXT.connected.label).toBe('Live');
    expect(LIVE_TEXT.disconnected.label).toMatch(/^Reconnecting/);
    for (const t of Object.values(LIVE_TEXT)) expect(t.description.length).toBeGreaterThan(30);
  });
});
