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

export type EventType = 'task_created' | 'task_updated' | 'task_deleted' | 'agent_status_changed';

export interface McEvent {
  id: string;
  type: EventType | string;
  message: string;
  agentId: string | null;
  taskId: string | null;
  timestamp: number;
}

export interface User {
  id: string;
  name: string;
  role: string;
}

/** Fields a create or edit sends; null clears an optional field on edit. */
export interface TaskInput {
  title?: string;
  description?: string | null;
  status?: TaskStatus;
  assignedAgent?: string | null;
  priority?: Priority | null;
  tags?: string[];
}

export interface FieldError {
  field: string;
  message: string;
}
