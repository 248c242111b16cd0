import { Suspense, lazy, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import * as api from './lib/api';
import { NO_FILTER, allTags, groupByStatus, isFiltering, type TaskFilter } from './lib/board';
import { serverNow, useClock } from './lib/clock';
import { COMPACT_QUERY, useMediaQuery } from './lib/media';
import { catchUpText, countLabel, describeConflict, waitsForLabel } from './lib/present';
import { STATUSES, STATUS_LABELS, type Task, type TaskStatus, type User } from './lib/types';
import { useLiveBoard } from './useLiveBoard';
import { Board } from './components/Board';
import { Filters } from './components/Filters';
import { AgentsPanel } from './components/AgentsPanel';
import { EventFeed } from './components/EventFeed';
import type { DialogTarget, NotesApi } from './components/TaskDialog';
import { ConflictNotice } from './components/ConflictNotice';
import { Logo } from './components/Logo';
import { ThemeToggle } from './components/ThemeToggle';
import { Avatar } from './components/Avatar';
import { LiveIndicator } from './components/LiveIndicator';
import { useSideSheet } from './components/useSideSheet';

// The dialogs are not needed to show the board: they load on their own, once it is up.
const loadDialogs = () => import('./components/dialogs');
const TaskDialog = lazy(() => loadDialogs().then((m) => ({ default: m.TaskDialog })));
const AgentDialog = lazy(() => loadDialogs().then((m) => ({ default: m.AgentDialog })));
const PeopleDialog = lazy(() => loadDialogs().then((m) => ({ default: m.PeopleDialog })));
const PasswordDialog = lazy(() => loadDialogs().then((m) => ({ default: m.PasswordDialog })));

/** What the address's hash opens: a task's dialog, the new-task dialog, an agent's, the people
 * page (admins), or one's own password. */
type Route = { kind: 'task'; target: DialogTarget } | { kind: 'agent'; id: string } | { kind: 'people' } | { kind: 'password' };

function parseHash(hash: string): Route | null {
  const m = /^#task\/(.+)$/.exec(hash);
  if (m) return { kind: 'task', target: { mode: 'edit', id: decodeURIComponent(m[1]) } };
  const n = /^#new(?:\/(backlog|todo|in-progress|done))?$/.exec(hash);
  if (n) return { kind: 'task', target: { mode: 'create', status: (n[1] as TaskStatus | undefined) ?? 'backlog' } };
  const a = /^#agent\/(.+)$/.exec(hash);
  if (a) return { kind: 'agent', id: decodeURIComponent(a[1]) };
  if (hash === '#people') return { kind: 'people' };
  if (hash === '#password') return { kind: 'password' };
  return null;
}

interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error' | 'ok';
}

/** A move the server refused because the card had changed (412): what it is now, and the move. */
interface MoveConflict {
  id: number;
  current: Task;
  status: TaskStatus;
}

/** How long a refused card stays marked on the board. */
const FLAG_MS = 6000;

export function Dashboard({ user, token, onSignOut }: { user: User | null; token: string; onSignOut(): void }) {
  const [toast, setToast] = useState<Toast | null>(null);
  const showToast = useCallback((text: string, kind: Toast['kind'] = 'info') => {
    setToast({ id: Date.now() + Math.random(), text, kind });
  }, []);
  const onRefreshFailed = useCallback((msg: string) => showToast(`Could not refresh the board: ${msg}`, 'error'), [showToast]);
  const live = useLiveBoard(token, onRefreshFailed);
  const { state, dispatch, conn, loadError } = live;
  const [filter, setFilter] = useState<TaskFilter>(NO_FILTER);
  const [route, setRoute] = useState<Route | null>(() => parseHash(location.hash));
  const now = useClock(30_000);
  const [pendingIds, setPendingIds] = useState<ReadonlySet<string>>(() => new Set());
  const [flaggedIds, setFlaggedIds] = useState<ReadonlySet<string>>(() => new Set());
  const [moveConflict, setMoveConflict] = useState<MoveConflict | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const compact = useMediaQuery(COMPACT_QUERY);
  const openedByUs = useRef(false);
  const board = useRef(state);
  board.current = state;
  const operator = user?.operator === true;
  /** A viewer reads the board and watches it: no control that would change it is shown. */
  const readOnly = user?.access === 'viewer';

  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => setToast((cur) => (cur?.id === toast.id ? null : cur)), toast.kind === 'error' ? 7000 : 4000);
    return () => clearTimeout(t);
  }, [toast]);

  // Once the board is up and the browser idle, fetch the dialogs, so the first one opens at once.
  useEffect(() => {
    if (!state.loaded) return;
    const load = () => void loadDialogs();
    if (typeof requestIdleCallback === 'function') {
      const id = requestIdleCallback(load, { timeout: 5000 });
      return () => cancelIdleCallback(id);
    }
    const t = setTimeout(load, 1000);
    return () => clearTimeout(t);
  }, [state.loaded]);

  useEffect(() => {
    const onHash = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  // The open task's notes are kept live while its dialog is open, and dropped after.
  const notesTaskId = route?.kind === 'task' && route.target.mode === 'edit' ? route.target.id : null;
  useEffect(() => {
    if (!notesTaskId) live.notes.close();
  }, [notesTaskId, live.notes]);
  const notesApi: NotesApi = useMemo(
    () => ({
      open: live.notes.open,
      load: live.notes.load,
      added: (comment) => dispatch({ kind: 'notes', taskId: comment.taskId, comments: [comment] }),
    }),
    [live.notes, dispatch],
  );

  const openTask = useCallback((id: string) => {
    openedByUs.current = true;
    location.hash = `#task/${encodeURIComponent(id)}`;
  }, []);

  const openCreate = useCallback((status: TaskStatus = 'backlog') => {
    openedByUs.current = true;
    location.hash = status === 'backlog' ? '#new' : `#new/${status}`;
  }, []);

  const openAgent = useCallback((id: string) => {
    openedByUs.current = true;
    location.hash = `#agent/${encodeURIComponent(id)}`;
  }, []);

  const closeDialog = useCallback(() => {
    setRoute(null);
    if (openedByUs.current) {
      openedByUs.current = false;
      history.back();
    } else {
      history.replaceState(null, '', location.pathname + location.search);
    }
  }, []);

  const announce = useCallback((msg: string) => setAnnouncement(msg), []);

  const flag = useCallback((id: string) => {
    setFlaggedIds((s) => new Set(s).add(id));
    setTimeout(
      () =>
        setFlaggedIds((s) => {
          const n = new Set(s);
          n.delete(id);
          return n;
        }),
      FLAG_MS,
    );
  }, []);

  /** A drag or keyboard move: shown at once, made from the version on screen (If-Match). */
  const moveTask = useCallback(
    async (task: Task, status: TaskStatus) => {
      const optimistic: Task = { ...task, status };
      dispatch({ kind: 'local-task', task: optimistic });
      setPendingIds((s) => new Set(s).add(task.id));
      try {
        const saved = await api.updateTask(task.id, { status }, task.version);
        dispatch({ kind: 'local-task', task: saved });
        setMoveConflict((c) => (c?.current.id === task.id ? null : c));
      } catch (err) {
        const current = err instanceof api.ApiError && err.status === 412 ? err.refusal.current : undefined;
        if (current) {
          // Someone changed the card first: show it as it is now, and who changed it.
          dispatch({ kind: 'local-task', task: current });
          setMoveConflict({ id: Date.now(), current, status });
          flag(task.id);
          announce(`Not moved: “${task.title}” was changed meanwhile.`);
        } else {
          dispatch({ kind: 'revert', optimistic, previous: task });
          const b = board.current;
          const why = err instanceof api.ApiError ? describeConflict(err, { task, tasks: b.tasks, agents: b.agents, now: serverNow() }) : null;
          showToast(why ?? `Could not move “${task.title}” to ${STATUS_LABELS[status]}: ${err instanceof Error ? err.message : 'error'}`, 'error');
        }
      } finally {
        setPendingIds((s) => {
          const n = new Set(s);
          n.delete(task.id);
          return n;
        });
      }
    },
    [showToast, dispatch, flag, announce],
  );

  async function signOut() {
    try {
      await api.logout();
    } catch {
      /* the session ends locally either way */
    }
    api.clearSession();
    onSignOut();
  }

  const agentList = useMemo(() => Object.values(state.agents).sort((a, b) => a.name.localeCompare(b.name)), [state.agents]);
  const tags = useMemo(() => allTags(state.tasks), [state.tasks]);
  const { visible, totals } = useMemo(() => groupByStatus(state.tasks, filter), [state.tasks, filter]);
  const filtering = isFiltering(filter);
  const taskCount = STATUSES.reduce((n, s) => n + totals[s], 0);
  const shownCount = STATUSES.reduce((n, s) => n + visible[s].length, 0);
  const me = user ? state.agents[user.id] : undefined;
  const side = useSideSheet(compact, state.events[0]?.id ?? null, state.loaded);
  // What each blocked card waits for, as text (so unchanged cards keep their memo).
  const waitsFor = useMemo(() => {
    const out: Record<string, string> = {};
    for (const t of Object.values(state.tasks)) if (t.blocked) out[t.id] = waitsForLabel(t, state.tasks);
    return out;
  }, [state.tasks]);
  const conflictCurrent = moveConflict ? (state.tasks[moveConflict.current.id] ?? moveConflict.current) : null;

  const banner =
    conn.status === 'disconnected' ? (
      <div className="banner banner--warn" role="status" data-testid="connection-banner">
        <span className="spinner" aria-hidden="true" />
        {conn.everConnected
          ? 'Connection lost. Reconnecting… Changes made elsewhere will appear once the board is back online.'
          : 'Live updates are unavailable. Retrying…'}
      </div>
    ) : live.catchUp ? (
      <div className="banner banner--ok" role="status" data-testid="reconnect-banner">
        <span data-testid="reconnect-text">{catchUpText(live.catchUp)}</span>
        <button type="button" className="icon-btn banner__close" onClick={live.dismissCatchUp} aria-label="Dismiss">
          ×
        </button>
      </div>
    ) : null;

  return (
    <div className={`app${compact ? ' app--compact' : ''}`}>
      <header className="topbar">
        <div className="topbar__brand">
          <Logo />
          <span className="topbar__name">Mission Control</span>
        </div>
        <LiveIndicator status={conn.status} />
        <span className="spacer" />
        {!readOnly && (
          <button type="button" className="btn btn--primary" onClick={() => openCreate()} data-testid="new-task">
            <span aria-hidden="true">+</span> <span className="hide-sm">New task</span>
            <span className="sr-only show-sm-inline">New task</span>
          </button>
        )}
        {operator && user?.access && (
          <a className="btn btn--ghost hide-sm" href="#people" data-testid="people">
            People
          </a>
        )}
        {user?.access && (
          <a className="btn btn--ghost hide-sm" href="#password" data-testid="password">
            Password
          </a>
        )}
        <ThemeToggle />
        {user && (
          <span className="user" title={`${user.name} (${user.role})`}>
            <Avatar id={user.id} name={user.name} color={me?.avatarColor} size={28} />
            <span className="user__name hide-sm">{user.name}</span>
          </span>
        )}
        <button type="button" className="btn btn--ghost" onClick={signOut} data-testid="sign-out">
          Sign out
        </button>
      </header>
      {banner}
      <div className="toolbar" hidden={side.sheet}>
        <Filters filter={filter} agents={agentList} tags={tags} onChange={setFilter} compact={compact} />
        <span className="toolbar__count muted" data-testid="task-total">
          {state.loaded ? countLabel(shownCount, taskCount, filtering) : ''}
        </span>
        {compact && (
          <button
            type="button"
            ref={side.toggleRef}
            className="btn btn--ghost side-toggle"
            aria-expanded={side.open}
            aria-controls="side-sheet"
            onClick={side.openSheet}
            data-testid="side-toggle"
          >
            Agents &amp; activity
            {side.unseen && (
              <span className="side-toggle__dot" data-testid="side-toggle-unseen">
                <span className="sr-only">(new activity)</span>
              </span>
            )}
          </button>
        )}
      </div>
      <main className="layout">
        <div className="layout__board" hidden={side.sheet}>
          {!state.loaded && loadError ? (
            <div className="state-panel" role="alert" data-testid="load-error">
              <h2>Could not load the board</h2>
              <p className="muted">{loadError}</p>
              <button type="button" className="btn btn--primary" onClick={live.retry}>
                Try again
              </button>
            </div>
          ) : !state.loaded ? (
            <div className="board board--loading" data-testid="board-loading" aria-busy="true" aria-label="Loading the board">
              {STATUSES.map((s) => (
                <section key={s} className="column">
                  <header className="column__head">
                    <span className={`column__dot column__dot--${s}`} aria-hidden="true" />
                    <h2 className="column__title">{STATUS_LABELS[s]}</h2>
                  </header>
                  <div className="column__body">
                    {[0, 1, 2].map((i) => (
                      <div key={i} className="card skeleton" />
                    ))}
                  </div>
                </section>
              ))}
            </div>
          ) : (
            <>
              {taskCount === 0 && (
                <div className="empty-hero" data-testid="board-empty">
                  <h2>No tasks yet</h2>
                  <p className="muted">Create the first one, or let an agent add tasks through the API: they appear here live.</p>
                  {!readOnly && (
                    <button type="button" className="btn btn--primary" onClick={() => openCreate()}>
                      Create a task
                    </button>
                  )}
                </div>
              )}
              <Board
                columns={visible}
                totals={totals}
                filtering={filtering}
                compact={compact}
                agents={state.agents}
                now={now}
                pendingIds={pendingIds}
                flaggedIds={flaggedIds}
                waitsFor={waitsFor}
                onOpen={openTask}
                onMove={readOnly ? undefined : moveTask}
                onCreate={readOnly ? undefined : openCreate}
                announce={announce}
              />
            </>
          )}
        </div>
        {(!compact || side.open) && (
          <aside className={`layout__side${side.sheet ? ' layout__side--sheet' : ''}`} id="side-sheet" aria-label={side.sheet ? 'Agents and activity' : undefined} data-testid="side">
            {side.sheet && (
              <header className="sheet__head">
                <h2 ref={side.headingRef} tabIndex={-1}>
                  Agents &amp; activity
                </h2>
                <button type="button" className="btn btn--ghost btn--sm" onClick={side.closeSheet} data-testid="side-close">
                  Back to the board
                </button>
              </header>
            )}
            <AgentsPanel
              agents={agentList}
              now={now}
              loaded={state.loaded}
              onPick={(id) => {
                setFilter((f) => ({ ...f, agent: f.agent === id ? '' : id }));
                if (side.sheet) side.closeSheet();
              }}
              onManage={operator ? openAgent : undefined}
            />
            <EventFeed events={state.events} tasks={state.tasks} agents={state.agents} now={now} loaded={state.loaded} />
          </aside>
        )}
      </main>
      <p id="card-help" className="sr-only">
        Press Enter to open. Press Space to pick up, then left and right arrows to choose a column and Space to drop. Shift with left or right arrow moves at once.
      </p>
      <div className="sr-only" aria-live="polite" data-testid="announcer">
        {announcement}
      </div>
      {moveConflict && conflictCurrent && (
        <div className="toast toast--conflict" data-testid="move-conflict">
          <ConflictNotice current={conflictCurrent} agents={state.agents} me={user?.id} lost={`Your move to ${STATUS_LABELS[moveConflict.status]}`}>
            {conflictCurrent.status !== moveConflict.status && (
              <button
                type="button"
                className="btn btn--primary btn--sm"
                onClick={() => {
                  setMoveConflict(null);
                  void moveTask(conflictCurrent, moveConflict.status);
                }}
                data-testid="conflict-move-anyway"
              >
                Move it to {STATUS_LABELS[moveConflict.status]} anyway
              </button>
            )}
            <button
              type="button"
              className="btn btn--ghost btn--sm"
              onClick={() => {
                setMoveConflict(null);
                openTask(conflictCurrent.id);
              }}
            >
              Open the card
            </button>
            <button type="button" className="btn btn--ghost btn--sm" onClick={() => setMoveConflict(null)} data-testid="conflict-dismiss">
              Dismiss
            </button>
          </ConflictNotice>
        </div>
      )}
      {toast && !moveConflict && (
        <div className={`toast toast--${toast.kind}`} role="status" data-testid="toast">
          {toast.text}
        </div>
      )}
      <Suspense fallback={null}>
        {route?.kind === 'task' && (
          <TaskDialog
            key={route.target.mode === 'edit' ? route.target.id : `new-${route.target.status}`}
            target={route.target}
            task={route.target.mode === 'edit' ? state.tasks[route.target.id] : undefined}
            loaded={state.loaded}
            agents={agentList}
            agentsById={state.agents}
            tasks={state.tasks}
            me={user?.id ?? null}
            notes={state.notes}
            notesApi={notesApi}
            now={now}
            onClose={closeDialog}
            onSaved={(task) => dispatch({ kind: 'local-task', task })}
            onDeleted={(id) => dispatch({ kind: 'local-delete', id })}
            readOnly={readOnly}
          />
        )}
        {route?.kind === 'people' && operator && <PeopleDialog me={user?.id ?? null} onClose={closeDialog} />}
        {route?.kind === 'password' && <PasswordDialog onClose={closeDialog} />}
        {route?.kind === 'agent' && operator && (
          <AgentDialog
            key={route.id}
            agentId={route.id}
            agent={state.agents[route.id]}
            loaded={state.loaded}
            me={user?.id ?? null}
            taskCount={Object.values(state.tasks).filter((t) => t.assignedAgent === route.id).length}
            now={now}
            onClose={closeDialog}
            onRemoved={(id) => dispatch({ kind: 'local-agent-removed', id })}
          />
        )}
      </Suspense>
    </div>
  );
}
