import { describe, expect, it } from 'vitest';
import { errorFromBody } from './api';
import {
  LIVE_TEXT,
  catchUpText,
  changedBy,
  countLabel,
  describeConflict,
  formatCountdown,
  formatWait,
  holderOf,
  listWords,
  openBlockers,
  presenceLabel,
  showsPriority,
  waitsForLabel,
} from './present';
import { makeAgent, makeTask } from './fixtures';
import type { Agent, Task } from './types';

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

const baseTask = (over: Partial<Task> = {}): Task => makeTask({ id: 'task-b', title: 'Deploy', status: 'todo', createdAt: 0, updatedAt: 0, ...over });
const nova: Agent = makeAgent({ status: 'offline', lastActive: 0, avatarColor: null });

describe('presence', () => {
  it('says when an offline agent was last seen, and nothing stale for one the server vouches for', () => {
    expect(presenceLabel(nova, 30_000).text).toBe('last seen under a minute ago');
    expect(presenceLabel(nova, 5 * 60_000 + 1).text).toBe('last seen 5 min ago');
    expect(presenceLabel(nova, 3 * 3_600_000).text).toBe('last seen 3 h ago');
    expect(presenceLabel(nova, 3 * 86_400_000).text).toBe('last seen 3 d ago');
    expect(presenceLabel({ ...nova, status: 'online' }, 10 * 60_000).text).toBe('');
    expect(presenceLabel({ ...nova, status: 'busy' }, 0).title).toMatch(/^Busy: the server has heard from Nova/);
  });
});

describe('claims', () => {
  it('counts a lease down in minutes and seconds, hours beyond', () => {
    expect(formatCountdown(14 * 60_000 + 5_000)).toBe('14:05');
    expect(formatCountdown(59_001)).toBe('1:00');
    expect(formatCountdown(0)).toBe('0:00');
    expect(formatCountdown(-5)).toBe('0:00');
    expect(formatCountdown(3_600_000)).toBe('1 h');
    expect(formatCountdown(3_600_000 + 20 * 60_000)).toBe('1 h 20 min');
  });

  it('knows the holder only while the lease is live and the task in progress', () => {
    const held = baseTask({ status: 'in-progress', assignedAgent: 'agent-nova', leaseExpiresAt: 10_000 });
    expect(holderOf(held, 9_999)).toBe('agent-nova');
    expect(holderOf(held, 10_000)).toBeNull();
    expect(holderOf({ ...held, status: 'todo' }, 0)).toBeNull();
    expect(holderOf({ ...held, leaseExpiresAt: null }, 0)).toBeNull();
  });
});

describe('blockers', () => {
  const a = baseTask({ id: 'task-a', title: 'Fix auth bug', status: 'in-progress' });
  const c = baseTask({ id: 'task-c', title: 'Write docs', status: 'done' });
  const d = baseTask({ id: 'task-d', title: 'Review', status: 'todo' });
  const tasks = { [a.id]: a, [c.id]: c, [d.id]: d };

  it('names the unfinished blockers by title', () => {
    const b = baseTask({ blockedBy: ['task-a', 'task-c'], blocked: true });
    expect(openBlockers(b, tasks)).toEqual(['task-a']);
    expect(waitsForLabel(b, tasks)).toBe('Waits for “Fix auth bug”');
    expect(waitsForLabel(baseTask({ blockedBy: ['task-a', 'task-d'] }), tasks)).toBe('Waits for “Fix auth bug” and “Review”');
    expect(waitsForLabel(baseTask({ blockedBy: ['task-a', 'task-d', 'task-x'] }), tasks)).toBe('Waits for “Fix auth bug”, “Review” and 1 more');
    expect(waitsForLabel(baseTask({ blockedBy: ['task-x'] }), tasks)).toBe('Waits for a task not on the board');
  });

  it('lists in words', () => {
    expect(listWords([])).toBe('');
    expect(listWords(['A'])).toBe('A');
    expect(listWords(['A', 'B'])).toBe('A and B');
    expect(listWords(['A', 'B', 'C', 'D'])).toBe('A, B and 2 more');
  });
});

describe('refusals', () => {
  const agents = { 'agent-nova': nova };
  const task = baseTask({ id: 'task-b', title: 'Deploy', status: 'in-progress', assignedAgent: 'agent-nova', leaseExpiresAt: 600_000 });
  const blocker = baseTask({ id: 'task-a', title: 'Fix auth bug' });

  it('says who holds a task and for how long', () => {
    const err = errorFromBody(409, { error: { code: 'held', message: 'x', details: [], holder: 'agent-nova', leaseExpiresAt: 600_000 } });
    const text = describeConflict(err, { task, tasks: {}, agents, now: 600_000 - 125_000 });
    expect(text).toMatch(/^Nova holds “Deploy” for another 2 min 5 s \(until .+\): only Nova or the operator can move, reassign or delete it meanwhile\.$/);
  });

  it('says what a blocked task waits for', () => {
    const err = errorFromBody(409, { error: { code: 'blocked', message: 'x', details: [], blockers: ['task-a'] } });
    expect(describeConflict(err, { task, tasks: { 'task-a': blocker }, agents, now: 0 })).toBe(
      '“Deploy” waits for “Fix auth bug”: it can move to In progress or Done once that is done.',
    );
  });

  it('leaves other errors to the caller', () => {
    expect(describeConflict(errorFromBody(400, { error: { code: 'validation_failed', message: 'x' } }), { task, tasks: {}, agents, now: 0 })).toBeNull();
  });

  it('names who changed a task', () => {
    expect(changedBy('agent-nova', agents, 'agent-patch')).toBe('Nova');
    expect(changedBy('agent-patch', agents, 'agent-patch')).toBe('you, in another tab or window');
    expect(changedBy(null, agents, 'agent-patch')).toMatch(/^the server/);
    expect(changedBy('agent-gone', agents, null)).toBe('agent-gone');
  });
});

describe('the reconnect banner', () => {
  it('says how many changes it caught up on', () => {
    expect(catchUpText({ replayed: 6 })).toBe('Back online. Caught up on 6 changes made while the connection was down.');
    expect(catchUpText({ replayed: 1 })).toMatch(/Caught up on 1 change made/);
    expect(catchUpText({ replayed: 0 })).toMatch(/Nothing changed/);
    expect(catchUpText('gap')).toMatch(/reloaded/);
  });
});
