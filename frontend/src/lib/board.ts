// Client state for the board as pure functions: live messages, local writes and resyncs all go
// through here, so the rules are unit-tested: every change is applied once, in the order of its
// `seq`; the position the board stands at is what a reconnect resumes from; a snapshot replaces
// the state; a write's own answer never rolls back something newer (versions decide).
//
// Whether a task is `blocked` is worked out here from its blockers' statuses, which the board
// holds: the server does not rewrite (nor announce) the tasks waiting for a blocker when that
// blocker finishes, reopens or is deleted, so the blocker's own `task.updated` or
// `task.deleted` is what changes them. A deleted task's id leaves every `blockedBy` held.
import { PRIORITIES, STATUSES } from './types';
import type { Agent, Comment, McEvent, Priority, Task, TaskStatus } from './types';

/** One message from the server's Socket.io stream, in the spec's names, with its `seq`. */
export type LiveMessage = (
  | { type: 'task.created'; task: Task }
  | { type: 'task.updated'; task: Task }
  | { type: 'task.deleted'; taskId: string }
  | { type: 'agent.status_changed'; agent: Agent }
  | { type: 'agent.removed'; agentId: string }
  | { type: 'event.new'; event: McEvent }
  | { type: 'comment.created'; comment: Comment }
) & { seq?: number };

export interface Snapshot {
  tasks: Task[];
  agents: Agent[];
  events: McEvent[];
  /** The change log positions the task and agent lists were read at. */
  tasksSeq?: number;
  agentsSeq?: number;
}

/** The notes of the task whose dialog is open: loaded in pages, oldest first, and live. */
export interface Notes {
  taskId: string;
  comments: Comment[];
  /** More notes after the last one held are on the server (not loaded yet). */
  hasMore: boolean;
  loaded: boolean;
}

export interface BoardState {
  tasks: Record<string, Task>;
  agents: Record<string, Agent>;
  /** Newest first, unique by id, at most MAX_EVENTS. */
  events: McEvent[];
  /** True once a snapshot has been applied. */
  loaded: boolean;
  /**
   * While a resync is in flight: the live messages received since it started, replayed onto the
   * snapshot when it lands (the snapshot may predate them). Null when no resync is running.
   */
  pending: LiveMessage[] | null;
  /** Increments on each resync start; a snapshot for an older one is dropped. */
  syncId: number;
  /**
   * The change log position the board reflects: every change up to it is applied. What a
   * reconnect resumes from (`since`); null before a snapshot and while one is being fetched.
   */
  seq: number | null;
  /** The positions of the last snapshot's lists: task or agent changes at or below are in it. */
  floors: { tasks: number; agents: number };
  /** Ids of tasks deleted lately, so a write's late answer cannot bring one back. */
  gone: string[];
  notes: Notes | null;
}

export const MAX_EVENTS = 200;
const MAX_GONE = 500;
/** Notes held for one dialog at most; past that, "show more" reads on from the server. */
export const MAX_NOTES = 2000;

export function emptyState(): BoardState {
  return { tasks: {}, agents: {}, events: [], loaded: false, pending: null, syncId: 0, seq: null, floors: { tasks: -1, agents: -1 }, gone: [], notes: null };
}

/** Whether `incoming` is older than `current`: by version, or by time for copies without one. */
function isOlder(incoming: Task, current: Task): boolean {
  if (typeof incoming.version === 'number' && typeof current.version === 'number') return incoming.version < current.version;
  return incoming.updatedAt < current.updatedAt;
}

/**
 * Whether `task` waits for a blocker that is not done, from the blockers `tasks` holds; when it
 * holds some of them not, what the server said (it knows blockers this board may not have).
 */
export function deriveBlocked(task: Task, tasks: Record<string, Task>): boolean {
  let unknown = false;
  for (const id of task.blockedBy ?? []) {
    const blocker = tasks[id];
    if (!blocker) unknown = true;
    else if (blocker.status !== 'done') return true;
  }
  return unknown ? task.blocked : false;
}

/** `task` with `blocked` as its blockers say (the same object when it already is). */
function withBlocked(task: Task, tasks: Record<string, Task>): Task {
  const blocked = deriveBlocked(task, tasks);
  return blocked === task.blocked ? task : { ...task, blocked };
}

const isDone = (task: Task | undefined) => task?.status === 'done';

/**
 * After the task `id` changed whether it is done (or was deleted: `gone`), the tasks waiting for
 * it: `blocked` worked out again, and without `id` in `blockedBy` when it is gone. Unchanged
 * tasks keep their identity.
 */
function settleWaiting(tasks: Record<string, Task>, id: string, gone: boolean): Record<string, Task> {
  let next = tasks;
  for (const t of Object.values(tasks)) {
    if (!t.blockedBy?.includes(id)) continue;
    const trimmed = gone ? { ...t, blockedBy: t.blockedBy.filter((b) => b !== id) } : t;
    const settled = withBlocked(trimmed, next);
    if (settled === t) continue;
    if (next === tasks) next = { ...tasks };
    next[t.id] = settled;
  }
  return next;
}

/** Puts `task` in place of what `tasks` held (`current`), settling the tasks waiting for it. */
function putTask(tasks: Record<string, Task>, task: Task, current: Task | undefined): Record<string, Task> {
  const next = { ...tasks, [task.id]: task };
  return !current || isDone(current) !== isDone(task) ? settleWaiting(next, task.id, false) : next;
}

/** Inserts or replaces a task unless the one we hold is newer (a stale copy is ignored). */
export function upsertTask(tasks: Record<string, Task>, incoming: Task): Record<string, Task> {
  const current = tasks[incoming.id];
  if (current && isOlder(incoming, current)) return tasks;
  const task = withBlocked(incoming, tasks);
  if (current && sameTask(current, task)) return tasks;
  return putTask(tasks, task, current);
}

/** Removes a task, and its id from every `blockedBy` held. */
export function removeTask(tasks: Record<string, Task>, id: string): Record<string, Task> {
  if (!(id in tasks)) return settleWaiting(tasks, id, true);
  const next = { ...tasks };
  delete next[id];
  return settleWaiting(next, id, true);
}

/**
 * Field by field, including fields this dashboard does not know yet (the API grows additively),
 * so a change to any of them still counts as a change; arrays compare by their items.
 */
function sameFields(a: object, b: object): boolean {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  return keys.every((k) => {
    const u = x[k];
    const v = y[k];
    if (Array.isArray(u) && Array.isArray(v)) return u.length === v.length && u.every((item, i) => item === v[i]);
    return u === v;
  });
}

function sameTask(a: Task, b: Task): boolean {
  return a.updatedAt === b.updatedAt && sameFields(a, b);
}

export function addEvent(events: McEvent[], event: McEvent): McEvent[] {
  if (events.some((e) => e.id === event.id)) return events;
  return sortEvents([event, ...events]);
}

function sortEvents(events: McEvent[]): McEvent[] {
  const seen = new Set<string>();
  const unique = events.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
  // Newest first; ids are uuidv7 (time-ordered) and break ties between equal timestamps.
  unique.sort((a, b) => b.timestamp - a.timestamp || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  return unique.length > MAX_EVENTS ? unique.slice(0, MAX_EVENTS) : unique;
}

/** Notes in order (oldest first, ids break ties), each once. */
export function mergeComments(held: Comment[], more: Comment[]): Comment[] {
  if (more.length === 0) return held;
  const byId = new Map(held.map((c) => [c.id, c]));
  let added = false;
  for (const c of more) {
    if (!byId.has(c.id)) {
      byId.set(c.id, c);
      added = true;
    }
  }
  if (!added) return held;
  return [...byId.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Adds notes to the open dialog's list; past MAX_NOTES the rest waits behind "show more". */
function withNotes(notes: Notes, comments: Comment[], hasMore: boolean): Notes {
  const merged = mergeComments(notes.comments, comments);
  if (merged.length > MAX_NOTES) return { ...notes, comments: merged.slice(0, MAX_NOTES), hasMore: true, loaded: true };
  if (merged === notes.comments && hasMore === notes.hasMore && notes.loaded) return notes;
  return { ...notes, comments: merged, hasMore, loaded: true };
}

function applyToData(state: BoardState, msg: LiveMessage): BoardState {
  switch (msg.type) {
    case 'task.created':
    case 'task.updated': {
      const tasks = upsertTask(state.tasks, msg.task);
      return tasks === state.tasks ? state : { ...state, tasks };
    }
    case 'task.deleted': {
      const tasks = removeTask(state.tasks, msg.taskId);
      const gone = state.gone.includes(msg.taskId) ? state.gone : [msg.taskId, ...state.gone].slice(0, MAX_GONE);
      return tasks === state.tasks && gone === state.gone ? state : { ...state, tasks, gone };
    }
    case 'agent.status_changed': {
      const current = state.agents[msg.agent.id];
      if (current && sameFields(current, msg.agent)) return state;
      return { ...state, agents: { ...state.agents, [msg.agent.id]: msg.agent } };
    }
    case 'agent.removed': {
      if (!(msg.agentId in state.agents)) return state;
      const agents = { ...state.agents };
      delete agents[msg.agentId];
      return { ...state, agents };
    }
    case 'event.new': {
      const events = addEvent(state.events, msg.event);
      return events === state.events ? state : { ...state, events };
    }
    case 'comment.created': {
      const notes = state.notes;
      // While later notes are still on the server, this one comes with them, in its place.
      if (!notes || notes.taskId !== msg.comment.taskId || notes.hasMore) return state;
      const next = withNotes(notes, [msg.comment], false);
      return next === notes ? state : { ...state, notes: next };
    }
  }
}

/** Which snapshot list a message changes: its changes at or below that list's position are in it. */
function floorOf(state: BoardState, msg: LiveMessage): number {
  switch (msg.type) {
    case 'task.created':
    case 'task.updated':
    case 'task.deleted':
      return state.floors.tasks;
    case 'agent.status_changed':
    case 'agent.removed':
      return state.floors.agents;
    default:
      return -1;
  }
}

/**
 * Applies one change unless the board already has it: a seq at or below the board's position
 * was applied before (a replay after a reconnect overlaps), and one at or below its list's
 * snapshot position is in the snapshot. Messages without a seq are applied (idempotently).
 */
function applyOnce(state: BoardState, msg: LiveMessage): BoardState {
  const seq = msg.seq;
  if (seq === undefined) return applyToData(state, msg);
  if (state.seq !== null && seq <= state.seq) return state;
  const next = seq <= floorOf(state, msg) ? state : applyToData(state, msg);
  if (state.pending !== null) return next; // no position while a snapshot is on its way
  return { ...next, seq };
}

/** Applies one live message; remembered for replay onto the snapshot while a resync runs. */
export function applyLive(state: BoardState, msg: LiveMessage): BoardState {
  const next = applyOnce(state, msg);
  if (state.pending === null) return next;
  return { ...next, pending: [...state.pending, msg] };
}

/** A write this client made itself (the API's answer): newer copies win, deleted tasks stay gone. */
export function applyLocalTask(state: BoardState, task: Task): BoardState {
  if (state.gone.includes(task.id)) return state;
  const tasks = upsertTask(state.tasks, task);
  return tasks === state.tasks ? state : { ...state, tasks };
}

export function applyLocalDelete(state: BoardState, taskId: string): BoardState {
  return applyToData(state, { type: 'task.deleted', taskId });
}

/** The operator removed an agent (the live `agent.removed` may come first or after). */
export function applyLocalAgentRemoved(state: BoardState, agentId: string): BoardState {
  return applyToData(state, { type: 'agent.removed', agentId });
}

/** Marks the start of a resync (initial load, or when the log cannot catch the board up). */
export function startResync(state: BoardState, syncId: number = state.syncId + 1): BoardState {
  return { ...state, pending: [], syncId, seq: null };
}

/** Undoes an optimistic change if nothing newer replaced it meanwhile. */
export function revertOptimistic(state: BoardState, optimistic: Task, previous: Task): BoardState {
  if (state.tasks[optimistic.id] !== optimistic) return state;
  return { ...state, tasks: putTask(state.tasks, withBlocked(previous, state.tasks), optimistic) };
}

/**
 * Replaces the state with the snapshot, then replays the live messages that arrived while it was
 * being fetched, skipping those the snapshot already holds (by seq). The board's position is
 * then the lower of the lists' positions, or the last message replayed past it.
 */
export function finishResync(state: BoardState, snapshot: Snapshot, syncId: number): BoardState {
  if (syncId !== state.syncId) return state;
  // Unchanged objects keep their identity, so a resync re-renders only what changed.
  const fresh: Record<string, Task> = {};
  for (const t of snapshot.tasks) fresh[t.id] = t;
  const tasks: Record<string, Task> = {};
  for (const t of snapshot.tasks) {
    const settled = withBlocked(t, fresh);
    const prev = state.tasks[t.id];
    tasks[t.id] = prev && sameTask(prev, settled) ? prev : settled;
  }
  const agents: Record<string, Agent> = {};
  for (const a of snapshot.agents) {
    const prev = state.agents[a.id];
    agents[a.id] = prev && sameFields(prev, a) ? prev : a;
  }
  const hasSeq = typeof snapshot.tasksSeq === 'number' && typeof snapshot.agentsSeq === 'number';
  let next: BoardState = {
    tasks,
    agents,
    events: sortEvents(snapshot.events),
    loaded: true,
    pending: null,
    syncId: state.syncId,
    seq: hasSeq ? Math.min(snapshot.tasksSeq!, snapshot.agentsSeq!) : null,
    floors: hasSeq ? { tasks: snapshot.tasksSeq!, agents: snapshot.agentsSeq! } : { tasks: -1, agents: -1 },
    gone: state.gone,
    notes: state.notes,
  };
  for (const msg of state.pending ?? []) next = applyOnce(next, msg);
  return next;
}

/** A resync failed: keep what we have (live messages were applied as they came), with no position. */
export function failResync(state: BoardState, syncId: number): BoardState {
  if (syncId !== state.syncId) return state;
  return { ...state, pending: null, seq: null };
}

/** The dialog of `taskId` opened: its notes start loading. */
export function openNotes(state: BoardState, taskId: string): BoardState {
  if (state.notes?.taskId === taskId) return state;
  return { ...state, notes: { taskId, comments: [], hasMore: false, loaded: false } };
}

export function closeNotes(state: BoardState): BoardState {
  return state.notes ? { ...state, notes: null } : state;
}

/** A page of notes read from the server (or the answer to adding one: `hasMore` unchanged). */
export function addNotes(state: BoardState, taskId: string, comments: Comment[], hasMore?: boolean): BoardState {
  const notes = state.notes;
  if (!notes || notes.taskId !== taskId) return state;
  const next = withNotes(notes, comments, hasMore ?? notes.hasMore);
  return next === notes ? state : { ...state, notes: next };
}

// ---- derived views -------------------------------------------------------------------------

export interface TaskFilter {
  /** '' = any agent, '__none__' = unassigned, else an agent id. */
  agent: string;
  /** '' = any, '__none__' = no priority, else a priority. */
  priority: string;
  /** '' = any tag. */
  tag: string;
  search: string;
}

export const NO_FILTER: TaskFilter = { agent: '', priority: '', tag: '', search: '' };
export const NONE = '__none__';

export function isFiltering(f: TaskFilter): boolean {
  return f.agent !== '' || f.priority !== '' || f.tag !== '' || f.search.trim() !== '';
}

export function matchesFilter(task: Task, f: TaskFilter): boolean {
  if (f.agent === NONE ? task.assignedAgent !== null : f.agent !== '' && task.assignedAgent !== f.agent) return false;
  if (f.priority === NONE ? task.priority !== null : f.priority !== '' && task.priority !== f.priority) return false;
  if (f.tag !== '' && !task.tags.includes(f.tag)) return false;
  const q = f.search.trim().toLowerCase();
  if (q !== '' && !task.title.toLowerCase().includes(q)) return false;
  return true;
}

const PRIORITY_RANK: Record<Priority, number> = Object.fromEntries(
  PRIORITIES.map((p, i) => [p, i]),
) as Record<Priority, number>;

/** Within a column: most urgent first, then most recently changed. */
export function compareTasks(a: Task, b: Task): number {
  const pa = a.priority ? PRIORITY_RANK[a.priority] : PRIORITIES.length;
  const pb = b.priority ? PRIORITY_RANK[b.priority] : PRIORITIES.length;
  return pa - pb || b.updatedAt - a.updatedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export type Columns = Record<TaskStatus, Task[]>;

export function groupByStatus(tasks: Record<string, Task>, f: TaskFilter = NO_FILTER): { visible: Columns; totals: Record<TaskStatus, number> } {
  const visible = Object.fromEntries(STATUSES.map((s) => [s, [] as Task[]])) as unknown as Columns;
  const totals = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
  for (const t of Object.values(tasks)) {
    if (!(t.status in totals)) continue;
    totals[t.status] += 1;
    if (matchesFilter(t, f)) visible[t.status].push(t);
  }
  for (const s of STATUSES) visible[s].sort(compareTasks);
  return { visible, totals };
}

export function allTags(tasks: Record<string, Task>): string[] {
  const set = new Set<string>();
  for (const t of Object.values(tasks)) for (const tag of t.tags) set.add(tag);
  return [...set].sort((a, b) => a.localeCompare(b));
}

/**
 * The column a one-column (phone) board opens on: the one chosen last time if any, else
 * In progress when it has tasks (what people check on their agents), else the first that has any.
 */
export function initialColumn(columns: Columns, saved?: string | null): TaskStatus {
  if (saved && (STATUSES as readonly string[]).includes(saved)) return saved as TaskStatus;
  if (columns['in-progress'].length > 0) return 'in-progress';
  return STATUSES.find((s) => columns[s].length > 0) ?? 'backlog';
}

export function neighbourStatus(status: TaskStatus, delta: -1 | 1): TaskStatus | null {
  const i = STATUSES.indexOf(status) + delta;
  return i >= 0 && i < STATUSES.length ? STATUSES[i] : null;
}

/** "now", "5m", "3h", "2d", "4w": compact age for cards and lists. */
export function formatAge(then: number, now: number): string {
  const s = Math.max(0, Math.floor((now - then) / 1000));
  if (s < 45) return 'now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h}h`;
  const d = Math.round(h / 24);
  if (d < 14) return `${d}d`;
  const w = Math.round(d / 7);
  if (w < 9) return `${w}w`;
  return `${Math.round(d / 30)}mo`;
}

/** Maps the API's field names (e.g. "tags[2]", "body.title") to the dialog's fields. */
export function fieldKey(field: string): string {
  const base = field.replace(/^body\./, '').split(/[.[]/)[0];
  return base;
}
