// How the board words and shows things: which badges say something, counts that follow the
// filters, waits and the live indicator's labels. Pure, so the wording is unit-tested in one place.
import type { ApiError } from './api';
import type { ConnectionStatus } from './socket';
import type { Agent, Priority, Task } from './types';

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

// ---- agents at work: presence, claims, blockers, refusals ----------------------------------

/** Agent names by id, with a fallback for agents the board does not know (removed ones). */
export function agentName(id: string | null | undefined, agents: Record<string, Agent>): string {
  if (!id) return 'someone';
  return agents[id]?.name ?? id;
}

/** "5 min", "3 h", "2 d": how long ago, in words, for "last seen". */
export function formatAgo(then: number, now: number): string {
  const s = Math.max(0, Math.floor((now - then) / 1000));
  if (s < 60) return 'under a minute';
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h`;
  return `${Math.floor(h / 24)} d`;
}

/**
 * What the agents panel says of an agent's presence. The server computes it (an agent silent
 * for a few minutes is set offline), so online means heard from lately; for an offline agent the
 * panel says when it was last seen.
 */
export function presenceLabel(agent: Agent, now: number): { text: string; title: string } {
  if (agent.status === 'offline') {
    return {
      text: `last seen ${formatAgo(agent.lastActive, now)} ago`,
      title: `Offline: no sign of life since ${new Date(agent.lastActive).toLocaleString()}`,
    };
  }
  const word = agent.status === 'busy' ? 'Busy' : 'Online';
  return { text: '', title: `${word}: the server has heard from ${agent.name} within the last few minutes` };
}

/** "14:05" under an hour (a countdown), "1 h 20 min" beyond; for a lease's time left. */
export function formatCountdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s >= 3600) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return m === 0 ? `${h} h` : `${h} h ${m} min`;
  }
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}

/** The agent holding a live claim on the task at `now`, if any (the holder is the assignee). */
export function holderOf(task: Task, now: number): string | null {
  return task.status === 'in-progress' && task.assignedAgent && task.leaseExpiresAt !== null && task.leaseExpiresAt !== undefined && task.leaseExpiresAt > now
    ? task.assignedAgent
    : null;
}

/** “Title” in the quotes the server uses. */
export function quoted(title: string): string {
  return `“${title}”`;
}

/** A list of names in words: "A", "A and B", "A, B and 2 more". */
export function listWords(items: string[], max = 2): string {
  if (items.length <= 1) return items[0] ?? '';
  if (items.length <= max) return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** The blockers of a task that are not done yet (unknown ones count: the server says blocked). */
export function openBlockers(task: Task, tasks: Record<string, Task>): string[] {
  return (task.blockedBy ?? []).filter((id) => tasks[id]?.status !== 'done');
}

/** "Waits for “A” and “B”": what a blocked card says, with the titles the board knows. */
export function waitsForLabel(task: Task, tasks: Record<string, Task>, ids: string[] = openBlockers(task, tasks)): string {
  const names = ids.map((id) => (tasks[id] ? quoted(tasks[id].title) : 'a task not on the board'));
  return names.length === 0 ? 'Waits for another task' : `Waits for ${listWords(names)}`;
}

/** Who made a task's last change, for a conflict notice. */
export function changedBy(updatedBy: string | null, agents: Record<string, Agent>, me: string | null | undefined): string {
  // The server's own changes: a lease that ran out, a task whose blocker was finished.
  if (updatedBy === null) return 'the server (a claim ran out, or a task it waits for changed)';
  if (me && updatedBy === me) return 'you, in another tab or window';
  return agentName(updatedBy, agents);
}

export interface RefusalContext {
  task: Task;
  tasks: Record<string, Task>;
  agents: Record<string, Agent>;
  now: number;
}

/**
 * A clear sentence for the API's 409 answers on a task: who holds it and for how long, what it
 * waits for, who it is assigned to. Null when the error is not one of those.
 */
export function describeConflict(err: ApiError, { task, tasks, agents, now }: RefusalContext): string | null {
  if (err.status !== 409) return null;
  const title = quoted(task.title);
  switch (err.code) {
    case 'held': {
      const holder = agentName(err.refusal.holder ?? task.assignedAgent, agents);
      const until = err.refusal.leaseExpiresAt;
      const left = until ? ` for another ${formatWait(Math.max(1, (until - now) / 1000))} (until ${new Date(until).toLocaleTimeString()})` : '';
      return `${holder} holds ${title}${left}: only ${holder} or the operator can move, reassign or delete it meanwhile.`;
    }
    case 'blocked': {
      const ids = err.refusal.blockers ?? openBlockers(task, tasks);
      return `${title} ${waitsForLabel(task, tasks, ids).replace(/^Waits/, 'waits')}: it can move to In progress or Done once ${ids.length === 1 ? 'that is' : 'those are'} done.`;
    }
    case 'assigned':
      return `${title} is assigned to ${agentName(task.assignedAgent, agents)}: only they can claim it.`;
    case 'done':
      return `${title} is already done.`;
    default:
      return null;
  }
}

/** The reconnect banner: what the board did to catch up once the connection came back. */
export function catchUpText(catchUp: { replayed: number } | 'gap' | 'reloaded'): string {
  if (catchUp === 'gap') return 'Back online. Too much changed to replay, so the board was reloaded from the server.';
  if (catchUp === 'reloaded') return 'Back online. The board was reloaded from the server.';
  const n = catchUp.replayed;
  if (n === 0) return 'Back online. Nothing changed while the connection was down.';
  return `Back online. Caught up on ${n} ${n === 1 ? 'change' : 'changes'} made while the connection was down.`;
}
