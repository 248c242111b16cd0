// Wire types, exactly as the API sends them (see the backend spec).

export const STATUSES = ['backlog', 'todo', 'in-progress', 'done'] as const;
export type TaskStatus = (typeof STATUSES)[number];

export const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const STATUS_LABELS: Record<TaskStatus, string> = {
  backlog: 'Backlog',
  todo: 'To do',
  'in-progress': 'In progress',
  done: 'Done',
};

export const PRIORITY_LABELS: Record<Priority, string> = {
  critical: 'Critical',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
};

export interface Task {
  id: string;
  title: string;
  description: string | null;
  status: TaskStatus;
  assignedAgent: string | null;
  priority: Priority | null;
  createdAt: number;
  updatedAt: number;
  createdBy: string | null;
  tags: string[];
  /** +1 on every change: what `If-Match` names. */
  version: number;
  /** Who made the last change; null when the server made it (a lease ran out). */
  updatedBy: string | null;
  /** While claimed: when the holder's lease ends (epoch ms). The holder is `assignedAgent`. */
  leaseExpiresAt: number | null;
  /** Tasks that must be done before this one can move to in-progress or done. */
  blockedBy: string[];
  /** Whether some task in `blockedBy` is not done yet. */
  blocked: boolean;
}

export type AgentRole = 'Main' | 'Dev' | 'Research' | 'Ops';
export type AgentStatus = 'online' | 'offline' | 'busy';

export interface Agent {
  id: string;
  name: string;
  role: AgentRole;
  status: AgentStatus;
  lastActive: number;
  avatarColor: string | null;
}

export type EventType = 'task_created' | 'task_updated' | 'task_deleted' | 'agent_status_changed' | 'agent_updated' | 'agent_removed' | 'comment_created';

export interface McEvent {
  id: string;
  type: EventType | string;
  message: string;
  agentId: string | null;
  taskId: string | null;
  timestamp: number;
  /** The change log position of the line. */
  seq?: number;
}

/** A note on a task. */
export interface Comment {
  id: string;
  taskId: string;
  /** Agent id of who wrote it. */
  author: string;
  text: string;
  createdAt: number;
}

/** One of an agent's tokens, as the operator sees it: never the token itself. */
export interface TokenInfo {
  id: string;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
}

/** What a person may do: everything, work on the board, or read it. */
export type Access = 'admin' | 'member' | 'viewer';

export interface User {
  id: string;
  name: string;
  role: string;
  /** A person's access role (absent for an agent's token). */
  access?: Access;
  /** Signed in as an admin (the operator, or a person an admin made one): manages agents and people. */
  operator?: boolean;
}

/** A person who signs in, as `/api/users` has them. */
export interface Person {
  id: string;
  username: string;
  name: string;
  role: Access;
  disabled: boolean;
  invited: boolean;
  createdAt: number;
}

/** Fields a create or edit sends; null clears an optional field on edit. */
export interface TaskInput {
  title?: string;
  description?: string | null;
  status?: TaskStatus;
  assignedAgent?: string | null;
  priority?: Priority | null;
  tags?: string[];
  blockedBy?: string[];
}

export interface FieldError {
  field: string;
  message: string;
}
