import { memo } from 'react';
import type { Agent, Task } from '../lib/types';
import { PRIORITY_LABELS, STATUS_LABELS } from '../lib/types';
import { formatAge } from '../lib/board';
import { Avatar } from './Avatar';

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
  handlers: CardHandlers;
}

function TaskCardInner({ task, agent, now, lifted, pending, handlers }: Props) {
  const label = `${task.title}. ${STATUS_LABELS[task.status]}${task.priority ? `, ${PRIORITY_LABELS[task.priority]} priority` : ''}${
    agent ? `, assigned to ${agent.name}` : task.assignedAgent ? `, assigned to ${task.assignedAgent}` : ''
  }`;
  return (
    <article
      className={`card${lifted ? ' card--lifted' : ''}${pending ? ' card--pending' : ''}`}
      data-testid="task-card"
      data-task-id={task.id}
      data-status={task.status}
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
      <div className="card__top">
        {task.priority && (
          <span className={`prio prio--${task.priority}`} data-testid="card-priority">
            {PRIORITY_LABELS[task.priority]}
          </span>
        )}
        <span className="card__age" title={new Date(task.updatedAt).toLocaleString()} data-testid="card-age">
          {formatAge(task.createdAt, now)}
        </span>
      </div>
      <h3 className="card__title" data-testid="card-title">
        {task.title}
      </h3>
      {(task.tags.length > 0 || task.assignedAgent) && (
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
        </div>
      )}
    </article>
  );
}

export const TaskCard = memo(TaskCardInner);
