import { describe, expect, it } from 'vitest';
import {
  MAX_EVENTS,
  MAX_NOTES,
  NONE,
  NO_FILTER,
  addEvent,
  addNotes,
  allTags,
  applyLive,
  applyLocalAgentRemoved,
  applyLocalDelete,
  applyLocalTask,
  closeNotes,
  deriveBlocked,
  emptyState,
  failResync,
  fieldKey,
  finishResync,
  formatAge,
  groupByStatus,
  initialColumn,
  isFiltering,
  matchesFilter,
  mergeComments,
  neighbourStatus,
  openNotes,
  revertOptimistic,
  startResync,
  type BoardState,
  type LiveMessage,
  type Snapshot,
} from './board';
import { makeAgent, makeTask } from './fixtures';
import type { Comment, McEvent, Task } from './types';

const task = makeTask;
const agent = makeAgent;

function event(id: string, timestamp: number, over: Partial<McEvent> = {}): McEvent {
  return { id, type: 'task_created', message: `event ${id}`, agentId: null, taskId: null, timestamp, ...over };
}

function loaded(snapshot: Partial<Snapshot> = {}): BoardState {
  const s = startResync(emptyState());
  return finishResync(s, { tasks: [], agents: [], events: [], ...snapshot }, s.syncId);
}

describe('live task messages', () => {
  it('task.created inserts the task', () => {
    const t = task();
    const s = applyLive(loaded(), { type: 'task.created', task: t });
    expect(s.tasks[t.id]).toEqual(t);
  });

  it('is idempotent: the same message twice changes nothing the second time', () => {
    const t = task();
    const msg: LiveMessage = { type: 'task.created', task: t };
    const once = applyLive(loaded(), msg);
    const twice = applyLive(once, msg);
    expect(twice).toBe(once);
    expect(Object.keys(twice.tasks)).toHaveLength(1);
  });

  it('a created message for a task we already hold (e.g. our own write came back first) keeps one copy', () => {
    const t = task();
    let s = applyLocalTask(loaded(), t);
    s = applyLive(s, { type: 'task.created', task: { ...t } });
    expect(Object.keys(s.tasks)).toEqual([t.id]);
  });

  it('task.updated replaces a task with a newer one', () => {
    const t = task();
    let s = applyLive(loaded(), { type: 'task.created', task: t });
    s = applyLive(s, { type: 'task.updated', task: { ...t, status: 'done', updatedAt: 2_000, version: 2 } });
    expect(s.tasks[t.id].status).toBe('done');
  });

  it('task.updated for an unknown task inserts it', () => {
    const t = task({ status: 'todo' });
    const s = applyLive(loaded(), { type: 'task.updated', task: t });
    expect(s.tasks[t.id]).toEqual(t);
  });

  it('a stale update (older version) is ignored, whatever its clock says', () => {
    const t = task({ updatedAt: 5_000, status: 'done', version: 5 });
    const s0 = applyLive(loaded(), { type: 'task.updated', task: t });
    const s1 = applyLive(s0, { type: 'task.updated', task: { ...t, status: 'todo', updatedAt: 9_000, version: 4 } });
    expect(s1).toBe(s0);
    expect(s1.tasks[t.id].status).toBe('done');
  });

  it('copies without a version fall back to updatedAt', () => {
    const t = { ...task({ updatedAt: 5_000, status: 'done' }), version: undefined } as unknown as Task;
    const s0 = applyLive(loaded(), { type: 'task.updated', task: t });
    const s1 = applyLive(s0, { type: 'task.updated', task: { ...t, status: 'todo', updatedAt: 4_000 } });
    expect(s1.tasks[t.id].status).toBe('done');
  });

  it('an update with the same updatedAt but different content is applied (same-millisecond writes)', () => {
    const t = task({ updatedAt: 5_000 });
    let s = applyLive(loaded(), { type: 'task.updated', task: t });
    s = applyLive(s, { type: 'task.updated', task: { ...t, title: 'renamed' } });
    expect(s.tasks[t.id].title).toBe('renamed');
  });

  it('task.deleted removes the task, and deleting an unknown task is a no-op', () => {
    const t = task();
    let s = applyLive(loaded(), { type: 'task.created', task: t });
    s = applyLive(s, { type: 'task.deleted', taskId: t.id });
    expect(s.tasks[t.id]).toBeUndefined();
    const again = applyLive(s, { type: 'task.deleted', taskId: t.id });
    expect(again).toBe(s);
  });

  it('local writes follow the same rules', () => {
    const t = task({ updatedAt: 3_000, version: 3 });
    let s = applyLocalTask(loaded(), t);
    s = applyLocalTask(s, { ...t, updatedAt: 2_000, version: 2, title: 'old' });
    expect(s.tasks[t.id].title).toBe(t.title);
    s = applyLocalDelete(s, t.id);
    expect(s.tasks).toEqual({});
  });

  it("a write's late answer does not bring back a task deleted meanwhile", () => {
    const t = task();
    let s = applyLive(loaded({ tasks: [t] }), { type: 'task.deleted', taskId: t.id, seq: 9 });
    s = applyLocalTask(s, { ...t, version: 2, status: 'done' });
    expect(s.tasks[t.id]).toBeUndefined();
  });

  it('an optimistic move is reverted only if nothing newer replaced it', () => {
    const t = task();
    const base = applyLive(loaded(), { type: 'task.created', task: t });
    const optimistic = { ...t, status: 'done' as const };
    const moved = applyLocalTask(base, optimistic);
    expect(moved.tasks[t.id].status).toBe('done');
    expect(revertOptimistic(moved, optimistic, t).tasks[t.id].status).toBe('backlog');
    const newer = applyLive(moved, { type: 'task.updated', task: { ...t, status: 'todo', updatedAt: 9_000, version: 2 } });
    expect(revertOptimistic(newer, optimistic, t).tasks[t.id].status).toBe('todo');
  });
});

describe('blocked, worked out from the blockers the board holds', () => {
  // The server announces a blocker finishing, reopening or going with the blocker's own change
  // only: the tasks waiting for it are not sent again.
  const blocker = () => task({ id: 'task-blocker', status: 'todo' });
  const waiting = (over: Partial<Task> = {}) => task({ blockedBy: ['task-blocker'], blocked: true, ...over });

  it('a blocker finishing unblocks the tasks waiting for it, and reopening blocks them again', () => {
    const b = blocker();
    const w = waiting();
    const other = task();
    let s = loaded({ tasks: [b, w, other] });
    expect(s.tasks[w.id].blocked).toBe(true);
    const before = s;
    s = applyLive(s, { type: 'task.updated', task: { ...b, status: 'done', version: 2 }, seq: 10 });
    expect(s.tasks[w.id].blocked).toBe(false);
    expect(s.tasks[w.id].version).toBe(1);
    expect(s.tasks[other.id]).toBe(before.tasks[other.id]);
    s = applyLive(s, { type: 'task.updated', task: { ...b, status: 'todo', version: 3 }, seq: 11 });
    expect(s.tasks[w.id].blocked).toBe(true);
    // A change that leaves the blocker's column alone leaves the waiting task as it is.
    const renamed = applyLive(s, { type: 'task.updated', task: { ...b, status: 'todo', title: 'B', version: 4 }, seq: 12 });
    expect(renamed.tasks[w.id]).toBe(s.tasks[w.id]);
  });

  it('a task waiting for two blockers is unblocked once both are done', () => {
    const a = task({ status: 'todo' });
    const b = task({ status: 'todo' });
    const w = task({ blockedBy: [a.id, b.id], blocked: true });
    let s = loaded({ tasks: [a, b, w] });
    s = applyLive(s, { type: 'task.updated', task: { ...a, status: 'done', version: 2 } });
    expect(s.tasks[w.id].blocked).toBe(true);
    s = applyLive(s, { type: 'task.updated', task: { ...b, status: 'done', version: 2 } });
    expect(s.tasks[w.id].blocked).toBe(false);
  });

  it('a deleted blocker leaves every blockedBy, and the tasks that waited only for it are unblocked', () => {
    const b = blocker();
    const a = task({ status: 'todo' });
    const only = waiting();
    const both = task({ blockedBy: ['task-blocker', a.id], blocked: true });
    let s = loaded({ tasks: [b, a, only, both] });
    s = applyLive(s, { type: 'task.deleted', taskId: b.id, seq: 20 });
    expect(s.tasks[only.id]).toMatchObject({ blockedBy: [], blocked: false, version: 1 });
    expect(s.tasks[both.id]).toMatchObject({ blockedBy: [a.id], blocked: true });
    // The same from this dashboard's own delete.
    let local = loaded({ tasks: [b, a, only, both] });
    local = applyLocalDelete(local, b.id);
    expect(local.tasks[only.id].blockedBy).toEqual([]);
    expect(local.tasks[only.id].blocked).toBe(false);
  });

  it('a blocker the board does not hold leaves the server’s word', () => {
    const w = task({ blockedBy: ['task-unseen'], blocked: true });
    expect(deriveBlocked(w, {})).toBe(true);
    expect(deriveBlocked({ ...w, blocked: false }, {})).toBe(false);
    const done = task({ id: 'task-done', status: 'done' });
    expect(deriveBlocked(task({ blockedBy: ['task-done', 'task-unseen'], blocked: true }), { [done.id]: done })).toBe(true);
    expect(deriveBlocked(task({ blockedBy: ['task-done'], blocked: true }), { [done.id]: done })).toBe(false);
  });

  it('a task arriving is worked out from the blockers held, whatever its copy says', () => {
    const b = { ...blocker(), status: 'done' as const };
    let s = loaded({ tasks: [b] });
    s = applyLive(s, { type: 'task.created', task: waiting({ blocked: true }) });
    expect(Object.values(s.tasks).find((t) => t.id !== b.id)?.blocked).toBe(false);
  });

  it('a snapshot whose lists were read at different moments is made consistent', () => {
    // The waiting task's copy was read before its blocker finished; the blocker's after.
    const b = { ...blocker(), status: 'done' as const, version: 2 };
    const w = waiting({ blocked: true });
    const s = loaded({ tasks: [w, b] });
    expect(s.tasks[w.id].blocked).toBe(false);
  });

  it('an optimistic move of a blocker to done unblocks at once, and its revert blocks again', () => {
    const b = blocker();
    const w = waiting();
    const base = loaded({ tasks: [b, w] });
    const optimistic = { ...b, status: 'done' as const };
    const moved = applyLocalTask(base, optimistic);
    expect(moved.tasks[w.id].blocked).toBe(false);
    const reverted = revertOptimistic(moved, optimistic, b);
    expect(reverted.tasks[b.id].status).toBe('todo');
    expect(reverted.tasks[w.id].blocked).toBe(true);
  });
});

describe('agents and events', () => {
  it('agent.status_changed inserts or replaces the agent', () => {
    let s = applyLive(loaded(), { type: 'agent.status_changed', agent: agent() });
    expect(s.agents['agent-nova'].status).toBe('online');
    s = applyLive(s, { type: 'agent.status_changed', agent: agent({ status: 'busy', lastActive: 2_000 }) });
    expect(s.agents['agent-nova'].status).toBe('busy');
    expect(Object.keys(s.agents)).toHaveLength(1);
  });

  it('event.new keeps the feed newest first and unique', () => {
    let s = loaded({ events: [event('evt-2', 2_000), event('evt-1', 1_000)] });
    s = applyLive(s, { type: 'event.new', event: event('evt-3', 3_000) });
    s = applyLive(s, { type: 'event.new', event: event('evt-3', 3_000) });
    expect(s.events.map((e) => e.id)).toEqual(['evt-3', 'evt-2', 'evt-1']);
  });

  it('an event that arrives late is placed by its timestamp', () => {
    const events = addEvent([event('evt-3', 3_000), event('evt-1', 1_000)], event('evt-2', 2_000));
    expect(events.map((e) => e.id)).toEqual(['evt-3', 'evt-2', 'evt-1']);
  });

  it('the feed is capped', () => {
    let events: McEvent[] = [];
    for (let i = 0; i < MAX_EVENTS + 20; i++) events = addEvent(events, event(`evt-${String(i).padStart(4, '0')}`, i));
    expect(events).toHaveLength(MAX_EVENTS);
    expect(events[0].id).toBe(`evt-${String(MAX_EVENTS + 19).padStart(4, '0')}`);
  });
});

describe('resync', () => {
  it('replaces the state with the snapshot: tasks deleted while away disappear, new ones appear', () => {
    const kept = task();
    const deletedWhileAway = task();
    let s = loaded({ tasks: [kept, deletedWhileAway], agents: [agent()] });
    const createdWhileAway = task({ title: 'made while offline' });
    s = startResync(s);
    expect(s.loaded).toBe(true); // the board stays visible during a resync
    s = finishResync(
      s,
      { tasks: [{ ...kept, status: 'done', updatedAt: 7_000 }, createdWhileAway], agents: [agent({ status: 'offline' })], events: [event('evt-9', 9_000)] },
      s.syncId,
    );
    expect(Object.keys(s.tasks).sort()).toEqual([kept.id, createdWhileAway.id].sort());
    expect(s.tasks[kept.id].status).toBe('done');
    expect(s.agents['agent-nova'].status).toBe('offline');
    expect(s.events.map((e) => e.id)).toEqual(['evt-9']);
    expect(s.pending).toBeNull();
  });

  it('replaces even newer local copies: the server is the source of truth after a reconnect', () => {
    const t = task({ updatedAt: 9_000, title: 'local' });
    let s = loaded({ tasks: [t] });
    s = startResync(s);
    s = finishResync(s, { tasks: [{ ...t, title: 'server', updatedAt: 8_000 }], agents: [], events: [] }, s.syncId);
    expect(s.tasks[t.id].title).toBe('server');
  });

  it('live messages that arrive while the snapshot is in flight are replayed onto it', () => {
    const a = task();
    let s = startResync(loaded());
    const lateCreate = task({ title: 'created during fetch', updatedAt: 5_000 });
    s = applyLive(s, { type: 'task.created', task: lateCreate });
    expect(s.tasks[lateCreate.id]).toBeDefined(); // shown at once, not only after the resync
    s = applyLive(s, { type: 'task.updated', task: { ...a, status: 'todo', updatedAt: 6_000 } });
    s = applyLive(s, { type: 'event.new', event: event('evt-late', 6_000) });
    // The snapshot was taken before those messages: it lacks them.
    s = finishResync(s, { tasks: [a], agents: [], events: [event('evt-old', 1_000)] }, s.syncId);
    expect(s.tasks[lateCreate.id]?.title).toBe('created during fetch');
    expect(s.tasks[a.id].status).toBe('todo');
    expect(s.events.map((e) => e.id)).toEqual(['evt-late', 'evt-old']);
  });

  it('replaying does not resurrect a task whose deletion also arrived during the fetch', () => {
    const a = task();
    let s = startResync(loaded({ tasks: [a] }));
    s = applyLive(s, { type: 'task.updated', task: { ...a, title: 'edited', updatedAt: 2_000 } });
    s = applyLive(s, { type: 'task.deleted', taskId: a.id });
    s = finishResync(s, { tasks: [], agents: [], events: [] }, s.syncId);
    expect(s.tasks[a.id]).toBeUndefined();
  });

  it('a replayed message older than the snapshot does not roll it back', () => {
    const a = task();
    let s = startResync(loaded({ tasks: [a] }));
    s = applyLive(s, { type: 'task.updated', task: { ...a, status: 'todo', updatedAt: 2_000, version: 2 } });
    s = finishResync(s, { tasks: [{ ...a, status: 'done', updatedAt: 3_000, version: 3 }], agents: [], events: [] }, s.syncId);
    expect(s.tasks[a.id].status).toBe('done');
  });

  it('keeps the identity of unchanged tasks and agents, so only changed cards re-render', () => {
    const same = task();
    const changed = task();
    let s = loaded({ tasks: [same, changed], agents: [agent()] });
    const before = s;
    s = startResync(s);
    s = finishResync(s, { tasks: [{ ...same }, { ...changed, title: 'new', updatedAt: 9_000 }], agents: [{ ...agent() }], events: [] }, s.syncId);
    expect(s.tasks[same.id]).toBe(before.tasks[same.id]);
    expect(s.tasks[changed.id]).not.toBe(before.tasks[changed.id]);
    expect(s.agents['agent-nova']).toBe(before.agents['agent-nova']);
  });

  it('fields the dashboard does not know yet are kept, and a change to one still counts', () => {
    const t = { ...task(), version: 3, blockedBy: ['task-x'] } as Task;
    let s = loaded({ tasks: [t] });
    const before = s.tasks[t.id];
    s = startResync(s);
    s = finishResync(s, { tasks: [{ ...t, blockedBy: ['task-x'] } as Task], agents: [], events: [] }, s.syncId);
    expect(s.tasks[t.id]).toBe(before);
    s = applyLive(s, { type: 'task.updated', task: { ...t, blockedBy: [] } as Task });
    expect((s.tasks[t.id] as Task & { blockedBy: string[] }).blockedBy).toEqual([]);
    s = applyLive(s, { type: 'task.updated', task: { ...t, blockedBy: [], leaseExpiresAt: 5_000 } as Task });
    expect((s.tasks[t.id] as Task & { leaseExpiresAt?: number }).leaseExpiresAt).toBe(5_000);
  });

  it('only the latest resync wins when two overlap', () => {
    let s = loaded();
    s = startResync(s);
    const first = s.syncId;
    s = startResync(s);
    const second = s.syncId;
    const stale = finishResync(s, { tasks: [task({ title: 'first' })], agents: [], events: [] }, first);
    expect(stale).toBe(s);
    s = finishResync(s, { tasks: [task({ title: 'second' })], agents: [], events: [] }, second);
    expect(Object.values(s.tasks).map((t) => t.title)).toEqual(['second']);
  });

  it('a failed resync keeps the current state and stops buffering', () => {
    const a = task();
    let s = startResync(loaded({ tasks: [a] }));
    s = applyLive(s, { type: 'task.deleted', taskId: a.id });
    s = failResync(s, s.syncId);
    expect(s.pending).toBeNull();
    expect(s.tasks).toEqual({});
    expect(s.loaded).toBe(true);
  });

  it('the first load marks the state loaded', () => {
    const s0 = emptyState();
    expect(s0.loaded).toBe(false);
    const s1 = startResync(s0);
    expect(finishResync(s1, { tasks: [], agents: [], events: [] }, s1.syncId).loaded).toBe(true);
  });
});

describe('board views', () => {
  const nova = 'agent-nova';
  const tasks = Object.fromEntries(
    [
      task({ id: 'a', title: 'Fix login bug', status: 'todo', priority: 'low', assignedAgent: nova, tags: ['bug', 'auth'], updatedAt: 1 }),
      task({ id: 'b', title: 'Write docs', status: 'todo', priority: 'critical', tags: ['docs'], updatedAt: 2 }),
      task({ id: 'c', title: 'Ship it', status: 'done', priority: null, assignedAgent: 'agent-patch', updatedAt: 3 }),
      task({ id: 'd', title: 'Login page polish', status: 'todo', priority: 'critical', updatedAt: 4 }),
    ].map((t) => [t.id, t]),
  );

  it('groups by status, most urgent then most recent first, with totals', () => {
    const { visible, totals } = groupByStatus(tasks);
    expect(visible.todo.map((t) => t.id)).toEqual(['d', 'b', 'a']);
    expect(visible.done.map((t) => t.id)).toEqual(['c']);
    expect(visible.backlog).toEqual([]);
    expect(totals).toEqual({ backlog: 0, todo: 3, 'in-progress': 0, done: 1 });
  });

  it('filters by agent, unassigned, priority, tag and title search (case-insensitive)', () => {
    const ids = (f: Partial<typeof NO_FILTER>) => Object.values(tasks).filter((t) => matchesFilter(t, { ...NO_FILTER, ...f })).map((t) => t.id).sort();
    expect(ids({ agent: nova })).toEqual(['a']);
    expect(ids({ agent: NONE })).toEqual(['b', 'd']);
    expect(ids({ priority: 'critical' })).toEqual(['b', 'd']);
    expect(ids({ priority: NONE })).toEqual(['c']);
    expect(ids({ tag: 'bug' })).toEqual(['a']);
    expect(ids({ search: '  LOGIN ' })).toEqual(['a', 'd']);
    expect(ids({ search: 'login', priority: 'critical' })).toEqual(['d']);
    expect(isFiltering(NO_FILTER)).toBe(false);
    expect(isFiltering({ ...NO_FILTER, search: ' ' })).toBe(false);
    expect(isFiltering({ ...NO_FILTER, tag: 'x' })).toBe(true);
  });

  it('totals count all tasks while the columns show the filtered ones', () => {
    const { visible, totals } = groupByStatus(tasks, { ...NO_FILTER, tag: 'docs' });
    expect(visible.todo.map((t) => t.id)).toEqual(['b']);
    expect(totals.todo).toBe(3);
  });

  it('lists tags sorted and unique', () => {
    expect(allTags(tasks)).toEqual(['auth', 'bug', 'docs']);
  });

  it('knows the neighbouring columns for keyboard moves', () => {
    expect(neighbourStatus('backlog', -1)).toBeNull();
    expect(neighbourStatus('backlog', 1)).toBe('todo');
    expect(neighbourStatus('in-progress', 1)).toBe('done');
    expect(neighbourStatus('done', 1)).toBeNull();
  });

  it('opens a one-column board on the saved column, else In progress, else the first with tasks', () => {
    const empty = groupByStatus({}).visible;
    expect(initialColumn(empty)).toBe('backlog');
    expect(initialColumn(groupByStatus(tasks).visible)).toBe('todo');
    const withProgress = groupByStatus({ ...tasks, p: task({ id: 'p', status: 'in-progress' }) }).visible;
    expect(initialColumn(withProgress)).toBe('in-progress');
    expect(initialColumn(withProgress, 'done')).toBe('done');
    expect(initialColumn(withProgress, 'bogus')).toBe('in-progress');
  });

  it('formats ages compactly', () => {
    const now = 10 * 86_400_000;
    expect(formatAge(now - 10_000, now)).toBe('now');
    expect(formatAge(now - 5 * 60_000, now)).toBe('5m');
    expect(formatAge(now - 3 * 3_600_000, now)).toBe('3h');
    expect(formatAge(now - 2 * 86_400_000, now)).toBe('2d');
    expect(formatAge(now + 60_000, now)).toBe('now');
  });

  it('maps API field names to dialog fields', () => {
    expect(fieldKey('title')).toBe('title');
    expect(fieldKey('tags[3]')).toBe('tags');
    expect(fieldKey('tags.3')).toBe('tags');
    expect(fieldKey('body.assignedAgent')).toBe('assignedAgent');
  });
});

describe('the change log position (seq)', () => {
  const at = (tasksSeq: number, agentsSeq: number, snapshot: Partial<Snapshot> = {}) => {
    const s = startResync(emptyState());
    return finishResync(s, { tasks: [], agents: [], events: [], tasksSeq, agentsSeq, ...snapshot }, s.syncId);
  };

  it('a snapshot stands at the lower of its lists’ positions', () => {
    expect(at(12, 10).seq).toBe(10);
    expect(at(7, 9).floors).toEqual({ tasks: 7, agents: 9 });
    expect(loaded().seq).toBeNull(); // a server that sends no seq: no position to resume from
  });

  it('every message moves the position, and one at or below it is not applied again', () => {
    const t = task();
    let s = applyLive(at(10, 10), { type: 'task.created', task: t, seq: 11 });
    expect(s.seq).toBe(11);
    s = applyLive(s, { type: 'task.updated', task: { ...t, title: 'renamed', version: 2 }, seq: 12 });
    const deleted = applyLive(s, { type: 'task.deleted', taskId: t.id, seq: 13 });
    // A replay after a reconnect overlaps what was already seen: 11..13 come again.
    let again = applyLive(deleted, { type: 'task.created', task: t, seq: 11 });
    again = applyLive(again, { type: 'task.updated', task: { ...t, title: 'renamed', version: 2 }, seq: 12 });
    again = applyLive(again, { type: 'task.deleted', taskId: t.id, seq: 13 });
    expect(again).toBe(deleted);
    expect(again.tasks[t.id]).toBeUndefined();
    expect(again.seq).toBe(13);
  });

  it('a seq the server skips (a revoked token, never sent to clients) is no gap', () => {
    const t = task();
    let s = applyLive(at(10, 10), { type: 'task.created', task: t, seq: 11 });
    s = applyLive(s, { type: 'task.updated', task: { ...t, title: 'after a skip', version: 2 }, seq: 13 });
    expect(s.tasks[t.id].title).toBe('after a skip');
    expect(s.seq).toBe(13);
  });

  it('changes already in a list of the snapshot are skipped, the others applied', () => {
    // Tasks read at 14, agents at 11: the board resumes from 11.
    const t = task({ title: 'in the snapshot', version: 2 });
    let s = at(14, 11, { tasks: [t], agents: [agent({ status: 'online' })] });
    s = applyLive(s, { type: 'task.updated', task: { ...t, title: 'older', version: 1 }, seq: 12 });
    s = applyLive(s, { type: 'agent.status_changed', agent: agent({ status: 'busy' }), seq: 13 });
    s = applyLive(s, { type: 'task.deleted', taskId: t.id, seq: 14 });
    expect(s.tasks[t.id].title).toBe('in the snapshot'); // 12 and 14 are in the task list
    expect(s.agents['agent-nova'].status).toBe('busy'); // 13 is not in the agent list
    expect(s.seq).toBe(14);
    s = applyLive(s, { type: 'task.deleted', taskId: t.id, seq: 15 });
    expect(s.tasks[t.id]).toBeUndefined();
  });

  it('while a snapshot is on its way the board has no position; messages wait to be replayed by seq', () => {
    let s = startResync(at(5, 5, { agents: [agent()] }));
    expect(s.seq).toBeNull();
    // Agents have no version: only the seq tells that this one is older than the snapshot.
    s = applyLive(s, { type: 'agent.status_changed', agent: agent({ status: 'busy' }), seq: 7 });
    s = applyLive(s, { type: 'event.new', event: event('evt-9', 9_000), seq: 9 });
    const late = task({ title: 'after the snapshot' });
    s = applyLive(s, { type: 'task.created', task: late, seq: 10 });
    s = finishResync(s, { tasks: [], agents: [agent({ status: 'offline' })], events: [], tasksSeq: 8, agentsSeq: 8 }, s.syncId);
    expect(s.agents['agent-nova'].status).toBe('offline');
    expect(s.tasks[late.id]).toBeDefined();
    expect(s.events.map((e) => e.id)).toEqual(['evt-9']);
    expect(s.seq).toBe(10);
  });

  it('a failed snapshot leaves no position: the next connection starts afresh', () => {
    let s = startResync(at(5, 5));
    s = applyLive(s, { type: 'task.created', task: task(), seq: 6 });
    s = failResync(s, s.syncId);
    expect(s.seq).toBeNull();
  });

  it('agent.removed takes the agent off the board', () => {
    let s = at(1, 1, { agents: [agent(), agent({ id: 'agent-bolt', name: 'Bolt' })] });
    s = applyLive(s, { type: 'agent.removed', agentId: 'agent-nova', seq: 2 });
    expect(Object.keys(s.agents)).toEqual(['agent-bolt']);
    expect(applyLocalAgentRemoved(s, 'agent-nova')).toBe(s);
  });
});

describe('notes of the open task', () => {
  const note = (id: string, createdAt: number, over: Partial<Comment> = {}): Comment => ({ id, taskId: 'task-a', author: 'agent-nova', text: `note ${id}`, createdAt, ...over });

  it('merges pages and live notes in order, each once', () => {
    expect(mergeComments([note('c1', 1), note('c3', 3)], [note('c2', 2), note('c3', 3)]).map((c) => c.id)).toEqual(['c1', 'c2', 'c3']);
    const held = [note('c1', 1)];
    expect(mergeComments(held, [note('c1', 1)])).toBe(held);
  });

  it('shows live notes of the open task only, once its notes are all loaded', () => {
    let s = openNotes(loaded(), 'task-a');
    s = addNotes(s, 'task-a', [note('c1', 1)], false);
    s = applyLive(s, { type: 'comment.created', comment: note('c2', 2), seq: 5 });
    s = applyLive(s, { type: 'comment.created', comment: note('c2', 2), seq: 5 });
    s = applyLive(s, { type: 'comment.created', comment: note('x1', 3, { taskId: 'task-b' }), seq: 6 });
    expect(s.notes?.comments.map((c) => c.id)).toEqual(['c1', 'c2']);
    // With later notes still on the server, a live one waits to be read in its place.
    let paged = openNotes(loaded(), 'task-b');
    paged = addNotes(paged, 'task-b', [note('b1', 1, { taskId: 'task-b' })], true);
    paged = applyLive(paged, { type: 'comment.created', comment: note('b9', 9, { taskId: 'task-b' }) });
    expect(paged.notes?.comments.map((c) => c.id)).toEqual(['b1']);
    expect(closeNotes(s).notes).toBeNull();
  });

  it('a page for another task (a dialog since closed) is dropped', () => {
    const s = openNotes(loaded(), 'task-a');
    expect(addNotes(s, 'task-b', [note('c1', 1, { taskId: 'task-b' })], false)).toBe(s);
  });

  it('holds at most MAX_NOTES; the rest waits behind "show more"', () => {
    let s = openNotes(loaded(), 'task-a');
    const many = Array.from({ length: MAX_NOTES + 5 }, (_, i) => note(`c${String(i).padStart(5, '0')}`, i));
    s = addNotes(s, 'task-a', many, false);
    expect(s.notes?.comments).toHaveLength(MAX_NOTES);
    expect(s.notes?.hasMore).toBe(true);
  });
});
