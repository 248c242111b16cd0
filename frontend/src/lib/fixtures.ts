// Test data for the unit tests: a task and an agent as the API sends them, with the fields a
// test cares about changed. Not part of the dashboard (nothing but tests imports it).
import type { Agent, Task } from './types';

let made = 0;

export function makeTask(over: Partial<Task> = {}): Task {
  made += 1;
  return {
    id: `task-${made}`,
    title: `Task ${made}`,
    description: null,
    status: 'backlog',
    assignedAgent: null,
    priority: 'medium',
    createdAt: 1_000,
    updatedAt: 1_000,
    createdBy: null,
    tags: [],
    version: 1,
    updatedBy: null,
    leaseExpiresAt: null,
    blockedBy: [],
    blocked: false,
    ...over,
  };
}

export function makeAgent(over: Partial<Agent> = {}): Agent {
  return { id: 'agent-nova', name: 'Nova', role: 'Research', status: 'online', lastActive: 1_000, avatarColor: '#10b981', ...over };
}
