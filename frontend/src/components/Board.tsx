import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Agent, Task, TaskStatus } from '../lib/types';
import { STATUSES, STATUS_LABELS } from '../lib/types';
import { initialColumn, neighbourStatus, type Columns } from '../lib/board';
import { countLabel } from '../lib/present';
import { TaskCard, type CardHandlers } from './TaskCard';

const DRAG_TYPE = 'application/x-mission-control-task';
/** The column a one-column board showed last, kept across reloads. */
const COLUMN_KEY = 'mc.column';

function savedColumn(): string | null {
  try {
    return localStorage.getItem(COLUMN_KEY);
  } catch {
    return null;
  }
}

function cardElement(id: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`[data-testid="task-card"][data-task-id="${CSS.escape(id)}"]`);
}

interface Props {
  columns: Columns;
  totals: Record<TaskStatus, number>;
  filtering: boolean;
  /** One column at a time, chosen with tabs (phone width). */
  compact: boolean;
  agents: Record<string, Agent>;
  now: number;
  pendingIds: ReadonlySet<string>;
  /** Cards just refused with a conflict, marked for a moment. */
  flaggedIds: ReadonlySet<string>;
  /** What each blocked task waits for, in words. */
  waitsFor: Record<string, string>;
  onOpen(id: string): void;
  /** Absent for a viewer: cards do not move. */
  onMove?(task: Task, status: TaskStatus): void;
  /** Absent for a viewer: no column offers a new task. */
  onCreate?(status: TaskStatus): void;
  announce(message: string): void;
}

export function Board({ columns, totals, filtering, compact, agents, now, pendingIds, flaggedIds, waitsFor, onOpen, onMove, onCreate, announce }: Props) {
  const [dropTarget, setDropTarget] = useState<TaskStatus | null>(null);
  const [lifted, setLifted] = useState<{ id: string; target: TaskStatus } | null>(null);
  const [active, setActive] = useState<TaskStatus>(() => initialColumn(columns, savedColumn()));
  const dragging = useRef<Task | null>(null);
  const focusAfterRender = useRef<string | null>(null);
  const tasksRef = useRef(columns);
  tasksRef.current = columns;

  // Keep keyboard focus on a card after it moves to another column (it is a new element there),
  // or after the arrow keys switched the one visible column.
  useEffect(() => {
    const id = focusAfterRender.current;
    if (!id) return;
    const el = cardElement(id);
    if (el && document.activeElement !== el) el.focus();
    focusAfterRender.current = null;
  });

  const chooseColumn = useCallback((status: TaskStatus) => {
    setActive(status);
    try {
      localStorage.setItem(COLUMN_KEY, status);
    } catch {
      /* storage unavailable */
    }
  }, []);

  /** `follow`: a keyboard move, after which a one-column board shows the card's new column. */
  const move = useCallback(
    (task: Task, status: TaskStatus, follow: boolean) => {
      if (task.status === status || !onMove) return;
      focusAfterRender.current = task.id;
      if (follow && compact) chooseColumn(status);
      onMove(task, status);
      announce(`Moved “${task.title}” to ${STATUS_LABELS[status]}.`);
    },
    [onMove, announce, compact, chooseColumn],
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
            if (current.target !== task.status) move(task, current.target, true);
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
          if (next) move(task, next, true);
        } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault();
          const list = tasksRef.current[task.status];
          const i = list.findIndex((t) => t.id === task.id) + (e.key === 'ArrowDown' ? 1 : -1);
          const target = list[i];
          if (target) cardElement(target.id)?.focus();
        } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
          e.preventDefault();
          let s = neighbourStatus(task.status, e.key === 'ArrowLeft' ? -1 : 1);
          while (s && tasksRef.current[s].length === 0) s = neighbourStatus(s, e.key === 'ArrowLeft' ? -1 : 1);
          const target = s ? tasksRef.current[s][0] : undefined;
          if (!s || !target) return;
          if (compact) {
            focusAfterRender.current = target.id;
            chooseColumn(s);
          } else cardElement(target.id)?.focus();
        }
      },
      onDragStart(e, task) {
        if (!onMove) {
          e.preventDefault();
          return;
        }
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
    [lifted, move, onOpen, onMove, announce, compact, chooseColumn],
  );

  /** Drop handlers for a column, and on a one-column board for its tab too. */
  const dropProps = (status: TaskStatus) => ({
    onDragOver(e: React.DragEvent<HTMLElement>) {
      if (!dragging.current && !e.dataTransfer.types.includes(DRAG_TYPE)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'move';
      if (dropTarget !== status) setDropTarget(status);
    },
    onDragLeave(e: React.DragEvent<HTMLElement>) {
      if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDropTarget((t) => (t === status ? null : t));
    },
    onDrop(e: React.DragEvent<HTMLElement>) {
      e.preventDefault();
      setDropTarget(null);
      const id = e.dataTransfer.getData(DRAG_TYPE) || dragging.current?.id;
      const task = dragging.current?.id === id ? dragging.current : Object.values(tasksRef.current).flat().find((t) => t.id === id);
      dragging.current = null;
      if (task) move(task, status, false);
    },
  });

  const isTarget = (status: TaskStatus) => dropTarget === status || (lifted !== null && lifted.target === status);
  const countText = (status: TaskStatus) =>
    filtering && columns[status].length !== totals[status] ? `${columns[status].length} / ${totals[status]}` : String(columns[status].length);

  const onTabKey = (e: React.KeyboardEvent<HTMLButtonElement>, status: TaskStatus) => {
    const i = STATUSES.indexOf(status);
    const to =
      e.key === 'ArrowRight' ? STATUSES[(i + 1) % STATUSES.length]
      : e.key === 'ArrowLeft' ? STATUSES[(i + STATUSES.length - 1) % STATUSES.length]
      : e.key === 'Home' ? STATUSES[0]
      : e.key === 'End' ? STATUSES[STATUSES.length - 1]
      : null;
    if (!to) return;
    e.preventDefault();
    chooseColumn(to);
    document.getElementById(`col-tab-${to}`)?.focus();
  };

  return (
    <div className={`board${compact ? ' board--compact' : ''}`} data-testid="board" data-compact={compact || undefined}>
      {compact && (
        <div className="board-tabs" role="tablist" aria-label="Columns" data-testid="column-tabs">
          {STATUSES.map((status) => (
            <button
              key={status}
              type="button"
              role="tab"
              id={`col-tab-${status}`}
              className={`board-tab${isTarget(status) ? ' board-tab--target' : ''}`}
              aria-selected={active === status}
              aria-controls={`col-panel-${status}`}
              tabIndex={active === status ? 0 : -1}
              data-testid={`tab-${status}`}
              onClick={() => chooseColumn(status)}
              onKeyDown={(e) => onTabKey(e, status)}
              {...dropProps(status)}
            >
              <span className={`column__dot column__dot--${status}`} aria-hidden="true" />
              {STATUS_LABELS[status]}
              <span className="board-tab__count" aria-label={countLabel(columns[status].length, totals[status], filtering)}>
                {countText(status)}
              </span>
            </button>
          ))}
        </div>
      )}
      {STATUSES.filter((status) => !compact || status === active).map((status) => {
        const list = columns[status];
        return (
          <section
            key={status}
            id={`col-panel-${status}`}
            className={`column${isTarget(status) ? ' column--target' : ''}`}
            data-testid={`column-${status}`}
            role={compact ? 'tabpanel' : undefined}
            aria-labelledby={compact ? `col-tab-${status}` : `col-title-${status}`}
            {...dropProps(status)}
          >
            <header className="column__head">
              <span className={`column__dot column__dot--${status}`} aria-hidden="true" />
              <h2 id={`col-title-${status}`} className="column__title">
                {STATUS_LABELS[status]}
              </h2>
              <span className="column__count" data-testid={`count-${status}`} aria-label={countLabel(list.length, totals[status], filtering)}>
                {countText(status)}
              </span>
              {onCreate && (
                <button type="button" className="icon-btn column__add" onClick={() => onCreate(status)} aria-label={`New task in ${STATUS_LABELS[status]}`} title="New task">
                  +
                </button>
              )}
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
                    flagged={flaggedIds.has(task.id)}
                    waitsFor={waitsFor[task.id]}
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
