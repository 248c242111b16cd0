import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Agent, Task, TaskStatus } from '../lib/types';
import { STATUSES, STATUS_LABELS } from '../lib/types';
import { neighbourStatus, type Columns } from '../lib/board';
import { TaskCard, type CardHandlers } from './TaskCard';

const DRAG_TYPE = 'application/x-mission-control-task';

interface Props {
  columns: Columns;
  totals: Record<TaskStatus, number>;
  filtering: boolean;
  agents: Record<string, Agent>;
  now: number;
  pendingIds: ReadonlySet<string>;
  onOpen(id: string): void;
  onMove(task: Task, status: TaskStatus): void;
  onCreate(status: TaskStatus): void;
  announce(message: string): void;
}

export function Board({ columns, totals, filtering, agents, now, pendingIds, onOpen, onMove, onCreate, announce }: Props) {
  const [dropTarget, setDropTarget] = useState<TaskStatus | null>(null);
  const [lifted, setLifted] = useState<{ id: string; target: TaskStatus } | null>(null);
  const dragging = useRef<Task | null>(null);
  const focusAfterMove = useRef<string | null>(null);
  const tasksRef = useRef(columns);
  tasksRef.current = columns;

  // Keep keyboard focus on a card after it moves to another column (it is a new element there).
  useEffect(() => {
    const id = focusAfterMove.current;
    if (!id) return;
    const el = document.querySelector<HTMLElement>(`[data-testid="task-card"][data-task-id="${CSS.escape(id)}"]`);
    if (el && document.activeElement !== el) el.focus();
    focusAfterMove.current = null;
  });

  const move = useCallback(
    (task: Task, status: TaskStatus) => {
      if (task.status === status) return;
      focusAfterMove.current = task.id;
      onMove(task, status);
      announce(`Moved “${task.title}” to ${STATUS_LABELS[status]}.`);
    },
    [onMove, announce],
  );

  const handlers: CardHandlers = useMemo(
    () => ({
      onOpen,
      onKeyDown(e, task) {
        const current = lifted && lifted.id === task.id ? lifted : null;
        if (current) {
          if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
            e.preventDefault();
            const next = neighbourStatus(current.target, e.key === 'ArrowLeft' ? -1 : 1);
            if (next) {
              setLifted({ id: task.id, target: next });
              announce(`${STATUS_LABELS[next]}. Press space to drop, escape to cancel.`);
            }
          } else if (e.key === ' ' || e.key === 'Enter') {
            e.preventDefault();
            setLifted(null);
            if (current.target !== task.status) move(task, current.target);
            else announce('Dropped in the same column.');
          } else if (e.key === 'Escape' || e.key === 'Tab') {
            setLifted(null);
            announce('Move cancelled.');
          }
          return;
        }
        if (e.key === 'Enter') {
          e.preventDefault();
          onOpen(task.id);
        } else if (e.key === ' ') {
          e.preventDefault();
          setLifted({ id: task.id, target: task.status });
          announce(`Picked up “${task.title}”. Use left and right arrows to choose a column, space to drop, escape to cancel.`);
        } else if ((e.key === 'ArrowLeft' || e.key === 'ArrowRight') && (e.shiftKey || e.altKey)) {
          e.preventDefault();
          const next = neighbourStatus(task.status, e.key === 'ArrowLeft' ? -1 : 1);
          if (next) move(task, next);
        } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault();
          const list = tasksRef.current[task.status];
          const i = list.findIndex((t) => t.id === task.id) + (e.key === 'ArrowDown' ? 1 : -1);
          const target = list[i];
          if (target) document.querySelector<HTMLElement>(`[data-testid="task-card"][data-task-id="${CSS.escape(target.id)}"]`)?.focus();
        } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
          e.preventDefault();
          let s = neighbourStatus(task.status, e.key === 'ArrowLeft' ? -1 : 1);
          while (s && tasksRef.current[s].length === 0) s = neighbourStatus(s, e.key === 'ArrowLeft' ? -1 : 1);
          const target = s ? tasksRef.current[s][0] : undefined;
          if (target) document.querySelector<HTMLElement>(`[data-testid="task-card"][data-task-id="${CSS.escape(target.id)}"]`)?.focus();
        }
      },
      onDragStart(e, task) {
        dragging.current = task;
        e.dataTransfer.effectAllowed = 'move';
        e.dataTransfer.setData(DRAG_TYPE, task.id);
        e.dataTransfer.setData('text/plain', task.title);
      },
      onDragEnd() {
        dragging.current = null;
        setDropTarget(null);
      },
    }),
    [lifted, move, onOpen, announce],
  );

  return (
    <div className="board" data-testid="board">
      {STATUSES.map((status) => {
        const list = columns[status];
        const isTarget = dropTarget === status || (lifted !== null && lifted.target === status);
        return (
          <section
            key={status}
            className={`column${isTarget ? ' column--target' : ''}`}
            data-testid={`column-${status}`}
            aria-labelledby={`col-title-${status}`}
            onDragOver={(e) => {
              if (!dragging.current && !e.dataTransfer.types.includes(DRAG_TYPE)) return;
              e.preventDefault();
              e.dataTransfer.dropEffect = 'move';
              if (dropTarget !== status) setDropTarget(status);
            }}
            onDragLeave={(e) => {
              if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDropTarget((t) => (t === status ? null : t));
            }}
            onDrop={(e) => {
              e.preventDefault();
              setDropTarget(null);
              const id = e.dataTransfer.getData(DRAG_TYPE) || dragging.current?.id;
              const task = dragging.current?.id === id ? dragging.current : Object.values(tasksRef.current).flat().find((t) => t.id === id);
              dragging.current = null;
              if (task) move(task, status);
            }}
          >
            <header className="column__head">
              <span className={`column__dot column__dot--${status}`} aria-hidden="true" />
              <h2 id={`col-title-${status}`} className="column__title">
                {STATUS_LABELS[status]}
              </h2>
              <span className="column__count" data-testid={`count-${status}`} aria-label={`${list.length} tasks`}>
                {filtering && list.length !== totals[status] ? `${list.length} / ${totals[status]}` : list.length}
              </span>
              <button type="button" className="icon-btn column__add" onClick={() => onCreate(status)} aria-label={`New task in ${STATUS_LABELS[status]}`} title="New task">
                +
              </button>
            </header>
            <div className="column__body">
              {list.length === 0 ? (
                <div className="column__empty">{filtering && totals[status] > 0 ? 'No matching tasks' : status === 'done' ? 'Nothing finished yet' : 'No tasks'}</div>
              ) : (
                list.map((task) => (
                  <TaskCard
                    key={task.id}
                    task={task}
                    agent={task.assignedAgent ? agents[task.assignedAgent] : undefined}
                    now={now}
                    lifted={lifted?.id === task.id}
                    pending={pendingIds.has(task.id)}
                    handlers={handlers}
                  />
                ))
              )}
            </div>
          </section>
        );
      })}
    </div>
  );
}
