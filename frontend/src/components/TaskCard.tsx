import { memo } from 'react';
import type { Agent, Task } from '../lib/types';
import { PRIORITY_LABELS, STATUS_LABELS } from '../lib/types';
import { formatAge } from '../lib/board';
import { showsPriority } from '../lib/present';
import { Avatar } from './Avatar';
import { LeaseCountdown } from './LeaseCountdown';

export interface CardHandlers {
  onOpen(id: string): void;
  onKeyDown(e: React.KeyboardEvent<HTMLElement>, task: Task): void;
  onDragStart(e: React.DragEvent<HTMLElement>, task: Task): void;
  onDragEnd(): void;
}

interface Props {
  task: Task;
  agent: Agent | undefined;
  now: number;
  lifted: boolean;
  pending: boolean;
  /** Just refused with a conflict: the card shows as it is now, marked for a moment. */
  flagged: boolean;
  /** For a blocked task: "Waits for “A” and “B”". */
  waitsFor: string | undefined;
  handlers: CardHandlers;
}

function TaskCardInner({ task, agent, now, lifted, pending, flagged, waitsFor, handlers }: Props) {
  const done = task.status === 'done';
  // A finished task's priority no longer says anything either.
  const priority = !done && showsPriority(task.priority) ? task.priority : null;
  const assignee = agent?.name ?? task.assignedAgent;
  // A claim lives while the task is in progress with its holder; the countdown says when it ends.
  const lease = task.status === 'in-progress' && task.assignedAgent && typeof task.leaseExpiresAt === 'number' ? task.leaseExpiresAt : null;
  const blocked = task.blocked && !done;
  const label = `${task.title}. ${STATUS_LABELS[task.status]}${priority ? `, ${PRIORITY_LABELS[priority]} priority` : ''}${blocked ? `, blocked: ${waitsFor ?? 'waits for another task'}` : ''}${
    lease ? `, claimed by ${assignee}` : assignee ? `, assigned to ${assignee}` : ''
  }`;
  return (
    <article
      className={`card${done ? ' card--done' : ''}${lifted ? ' card--lifted' : ''}${pending ? ' card--pending' : ''}${flagged ? ' card--flagged' : ''}${blocked ? ' card--blocked' : ''}`}
      data-testid="task-card"
      data-task-id={task.id}
      data-status={task.status}
      data-version={task.version}
      data-blocked={blocked || undefined}
      tabIndex={0}
      role="button"
      aria-label={label}
      aria-describedby="card-help"
      aria-pressed={lifted ? true : undefined}
      draggable
      onClick={() => handlers.onOpen(task.id)}
      onKeyDown={(e) => handlers.onKeyDown(e, task)}
      onDragStart={(e) => handlers.onDragStart(e, task)}
      onDragEnd={handlers.onDragEnd}
    >
      {(priority || blocked || lease) && (
        <div className="card__top">
          {priority && (
            <span className={`prio prio--${priority}`} data-testid="card-priority">
              {PRIORITY_LABELS[priority]}
            </span>
          )}
          {blocked && (
            <span className="badge badge--blocked" data-testid="card-blocked">
              Blocked
            </span>
          )}
          {lease && <LeaseCountdown expiresAt={lease} holder={assignee ?? 'its holder'} compact />}
        </div>
      )}
      <h3 className="card__title clamp" data-testid="card-title">
        {done && (
          <svg className="card__check" data-testid="card-done" viewBox="0 0 16 16" width="15" height="15" aria-hidden="true">
            <circle cx="8" cy="8" r="8" fill="currentColor" />
            <path d="m4.6 8.3 2.2 2.2 4.6-4.8" fill="none" stroke="var(--bg-col)" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
        )}
        {task.title}
      </h3>
      {blocked && (
        <p className="card__waits clamp" data-testid="card-waits-for">
          {waitsFor ?? 'Waits for another task'}
        </p>
      )}
      <div className="card__bottom">
        <div className="card__tags">
          {task.tags.map((tag) => (
            <span key={tag} className="tag">
              {tag}
            </span>
          ))}
        </div>
        {task.assignedAgent && (
          <span className="card__assignee" data-testid="card-assignee">
            <Avatar id={task.assignedAgent} name={agent?.name ?? task.assignedAgent.replace(/^agent-/, '')} color={agent?.avatarColor} size={20} />
            <span className="card__assignee-name" data-testid="card-assignee-name">{agent?.name ?? task.assignedAgent}</span>
          </span>
        )}
        <span
          className="card__age"
          title={`Created ${new Date(task.createdAt).toLocaleString()}, updated ${new Date(task.updatedAt).toLocaleString()}`}
          data-testid="card-age"
        >
          {formatAge(task.createdAt, now)}
        </span>
      </div>
    </article>
  );
}

export const TaskCard = memo(TaskCardInner);
