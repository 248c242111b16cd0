// Client state for the board as pure functions: live messages, local writes and resyncs all go
// through here, so the rules (idempotent, stale updates ignored, resync replaces) are unit-tested.
import { PRIORITIES, STATUSES } from './types';
import type { Agent, McEvent, Priority, Task, TaskStatus } from './types';

/** One message from the server's Socket.io stream, in the spec's names. */
export type LiveMessage =
  | { type: 'task.created'; task: Task }
  | { type: 'task.updated'; task: Task }
  | { type: 'task.deleted'; taskId: string }
  | { type: 'agent.status_changed'; agent: Agent }
  | { type: 'event.new'; event: McEvent };

export interface Snapshot {
  tasks: Task[];
  agents: Agent[];
  events: McEvent[];
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
}

export const MAX_EVENTS = 200;

export function emptyState(): BoardState {
  return { tasks: {}, agents: {}, events: [], loaded: false, pending: null, syncId: 0 };
}

/** Inserts or replaces a task unless the one we hold is newer (a stale update is ignored). */
export function upsertTask(tasks: Record<string, Task>, task: Task): Record<string, Task> {
  const current = tasks[task.id];
  if (current && current.updatedAt > task.updatedAt) return tasks;
  if (current && sameTask(current, task)) return tasks;
  return { ...tasks, [task.id]: task };
}

export function removeTask(tasks: Record<string, Task>, id: string): Record<string, Task> {
  if (!(id in tasks)) return tasks;
  const next = { ...tasks };
  delete next[id];
  return next;
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

function applyToData(state: BoardState, msg: LiveMessage): BoardState {
  switch (msg.type) {
    case 'task.created':
    case 'task.updated': {
      const tasks = upsertTask(state.tasks, msg.task);
      return tasks === state.tasks ? state : { ...state, tasks };
    }
    case 'task.deleted': {
      const tasks = removeTask(state.tasks, msg.taskId);
      return tasks === state.tasks ? state : { ...state, tasks };
    }
    case 'agent.status_changed':
      return { ...state, agents: { ...state.agents, [msg.agent.id]: msg.agent } };
    case 'event.new': {
      const events = addEvent(state.events, msg.event);
      return events === state.events ? state : { ...state, events };
    }
  }
}

/** Applies one live message; idempotent, and remembered for replay while a resync runs. */
export function applyLive(state: BoardState, msg: LiveMessage): BoardState {
  const next = applyToData(state, msg);
  if (state.pending === null) return next;
  return { ...next, pending: [...state.pending, msg] };
}

/** A write this client made itself (the API's answer): same rules as a live update. */
export function applyLocalTask(state: BoardState, task: Task): BoardState {
  return applyLive(state, { type: 'task.updated', task });
}

export function applyLocalDelete(state: BoardState, taskId: string): BoardState {
  return applyLive(state, { type: 'task.deleted', taskId });
}

/** Marks the start of a resync (initial load or after a reconnect); returns its id. */
export function startResync(state: BoardState, syncId: number = state.syncId + 1): BoardState {
  return { ...state, pending: [], syncId };
}

/** Undoes an optimistic change if nothing newer replaced it meanwhile. */
export function revertOptimistic(state: BoardState, optimistic: Task, previous: Task): BoardState {
  if (state.tasks[optimistic.id] !== optimistic) return state;
  return { ...state, tasks: { ...state.tasks, [previous.id]: previous } };
}

/**
 * Replaces the state with the snapshot, then replays the live messages that arrived while it was
 * being fetched (in order, with the usual stale checks), so nothing is lost either way.
 */
export function finishResync(state: BoardState, snapshot: Snapshot, syncId: number): BoardState {
  if (syncId !== state.syncId) return state;
  // Unchanged objects keep their identity, so a resync re-renders only what changed.
  const tasks: Record<string, Task> = {};
  for (const t of snapshot.tasks) {
    const prev = state.tasks[t.id];
    tasks[t.id] = prev && sameTask(prev, t) ? prev : t;
  }
  const agents: Record<string, Agent> = {};
  for (const a of snapshot.agents) {
    const prev = state.agents[a.id];
    agents[a.id] = prev && sameFields(prev, a) ? prev : a;
  }
  let next: BoardState = {
    tasks,
    agents,
    events: sortEvents(snapshot.events),
    loaded: true,
    pending: null,
    syncId: state.syncId,
  };
  for (const msg of state.pending ?? []) next = applyToData(next, msg);
  return next;
}

/** A resync failed: keep what we have (live messages were applied as they came). */
export function failResync(state: BoardState, syncId: number): BoardState {
  if (syncId !== state.syncId) return state;
  return { ...state, pending: null };
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
