import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import * as api from './lib/api';
import {
  NO_FILTER,
  allTags,
  applyLive,
  applyLocalDelete,
  applyLocalTask,
  emptyState,
  failResync,
  finishResync,
  groupByStatus,
  isFiltering,
  revertOptimistic,
  startResync,
  type BoardState,
  type LiveMessage,
  type Snapshot,
  type TaskFilter,
} from './lib/board';
import { connectLive, type ConnectionStatus } from './lib/socket';
import { COMPACT_QUERY, useMediaQuery } from './lib/media';
import { countLabel } from './lib/present';
import { STATUSES, STATUS_LABELS, type Task, type TaskStatus, type User } from './lib/types';
import { Board } from './components/Board';
import { Filters } from './components/Filters';
import { AgentsPanel } from './components/AgentsPanel';
import { EventFeed } from './components/EventFeed';
import { TaskDialog, type DialogTarget } from './components/TaskDialog';
import { Logo } from './components/Logo';
import { ThemeToggle } from './components/ThemeToggle';
import { Avatar } from './components/Avatar';
import { LiveIndicator } from './components/LiveIndicator';
import { useSideSheet } from './components/useSideSheet';

type Action =
  | { kind: 'live'; msg: LiveMessage }
  | { kind: 'resync-start'; id: number }
  | { kind: 'resync-done'; id: number; snapshot: Snapshot }
  | { kind: 'resync-fail'; id: number }
  | { kind: 'local-task'; task: Task }
  | { kind: 'local-delete'; id: string }
  | { kind: 'revert'; optimistic: Task; previous: Task };

function reducer(state: BoardState, a: Action): BoardState {
  switch (a.kind) {
    case 'live':
      return applyLive(state, a.msg);
    case 'resync-start':
      return startResync(state, a.id);
    case 'resync-done':
      return finishResync(state, a.snapshot, a.id);
    case 'resync-fail':
      return failResync(state, a.id);
    case 'local-task':
      return applyLocalTask(state, a.task);
    case 'local-delete':
      return applyLocalDelete(state, a.id);
    case 'revert':
      return revertOptimistic(state, a.optimistic, a.previous);
  }
}

function parseHash(hash: string): DialogTarget | null {
  const m = /^#task\/(.+)$/.exec(hash);
  if (m) return { mode: 'edit', id: decodeURIComponent(m[1]) };
  const n = /^#new(?:\/(backlog|todo|in-progress|done))?$/.exec(hash);
  if (n) return { mode: 'create', status: (n[1] as TaskStatus | undefined) ?? 'backlog' };
  return null;
}

interface Conn {
  status: ConnectionStatus;
  everConnected: boolean;
}

interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error' | 'ok';
}

export function Dashboard({ user, token, onSignOut }: { user: User | null; token: string; onSignOut(): void }) {
  const [state, dispatch] = useReducer(reducer, undefined, emptyState);
  const [conn, setConn] = useState<Conn>({ status: 'connecting', everConnected: false });
  const [loadError, setLoadError] = useState<string | null>(null);
  const [filter, setFilter] = useState<TaskFilter>(NO_FILTER);
  const [route, setRoute] = useState<DialogTarget | null>(() => parseHash(location.hash));
  const [now, setNow] = useState(() => Date.now());
  const [pendingIds, setPendingIds] = useState<ReadonlySet<string>>(() => new Set());
  const [toast, setToast] = useState<Toast | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const compact = useMediaQuery(COMPACT_QUERY);
  const syncCounter = useRef(0);
  const everConnected = useRef(false);
  const openedByUs = useRef(false);

  const showToast = useCallback((text: string, kind: Toast['kind'] = 'info') => {
    setToast({ id: Date.now() + Math.random(), text, kind });
  }, []);

  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => setToast((cur) => (cur?.id === toast.id ? null : cur)), 4000);
    return () => clearTimeout(t);
  }, [toast]);

  const resync = useCallback(
    async (reason: 'initial' | 'reconnect' | 'retry') => {
      const id = ++syncCounter.current;
      dispatch({ kind: 'resync-start', id });
      try {
        const snapshot = await api.getSnapshot();
        dispatch({ kind: 'resync-done', id, snapshot });
        setLoadError(null);
        if (reason === 'reconnect') showToast('Reconnected. The board is up to date.', 'ok');
      } catch (err) {
        dispatch({ kind: 'resync-fail', id });
        const msg = err instanceof Error ? err.message : 'Could not load the board.';
        setLoadError(msg);
        if (err instanceof api.ApiError && err.status === 401) return;
        if (reason !== 'initial') showToast(`Could not refresh the board: ${msg}`, 'error');
      }
    },
    [showToast],
  );

  // Live connection: every (re)connect refetches the full state, so nothing is missed meanwhile.
  useEffect(() => {
    const live = connectLive(token, {
      onMessage: (msg) => dispatch({ kind: 'live', msg }),
      onStatus: (status) => {
        setConn({ status, everConnected: everConnected.current });
        // No live connection to wait for: load over REST at once, the banner says why.
        if (status === 'disconnected' && syncCounter.current === 0) void resync('initial');
      },
      onConnected: () => {
        const wasConnected = everConnected.current;
        everConnected.current = true;
        setConn({ status: 'connected', everConnected: true });
        void resync(wasConnected || syncCounter.current > 0 ? 'reconnect' : 'initial');
      },
      onAuthError: () => {
        // Let the REST API decide: a 401 there ends the session.
        api.getAgents().catch(() => undefined);
      },
    });
    // If the live connection is slow to come up, load over REST anyway.
    const fallback = setTimeout(() => {
      if (syncCounter.current === 0) void resync('initial');
    }, 1000);
    return () => {
      clearTimeout(fallback);
      live.close();
    };
  }, [token, resync]);

  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(tick);
  }, []);

  useEffect(() => {
    const onHash = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const openTask = useCallback((id: string) => {
    openedByUs.current = true;
    location.hash = `#task/${encodeURIComponent(id)}`;
  }, []);

  const openCreate = useCallback((status: TaskStatus = 'backlog') => {
    openedByUs.current = true;
    location.hash = status === 'backlog' ? '#new' : `#new/${status}`;
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

  const moveTask = useCallback(
    async (task: Task, status: TaskStatus) => {
      const optimistic: Task = { ...task, status };
      dispatch({ kind: 'local-task', task: optimistic });
      setPendingIds((s) => new Set(s).add(task.id));
      try {
        const saved = await api.updateTask(task.id, { status });
        dispatch({ kind: 'local-task', task: saved });
      } catch (err) {
        dispatch({ kind: 'revert', optimistic, previous: task });
        showToast(`Could not move “${task.title}” to ${STATUS_LABELS[status]}: ${err instanceof Error ? err.message : 'error'}`, 'error');
      } finally {
        setPendingIds((s) => {
          const n = new Set(s);
          n.delete(task.id);
          return n;
        });
      }
    },
    [showToast],
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

  const banner =
    conn.status === 'disconnected' ? (
      <div className="banner banner--warn" role="status" data-testid="connection-banner">
        <span className="spinner" aria-hidden="true" />
        {conn.everConnected
          ? 'Connection lost. Reconnecting… Changes made elsewhere will appear once the board is back online.'
          : 'Live updates are unavailable. Retrying…'}
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
        <button type="button" className="btn btn--primary" onClick={() => openCreate()} data-testid="new-task">
          <span aria-hidden="true">+</span> <span className="hide-sm">New task</span>
          <span className="sr-only show-sm-inline">New task</span>
        </button>
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
              <button type="button" className="btn btn--primary" onClick={() => void resync('retry')}>
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
                  <button type="button" className="btn btn--primary" onClick={() => openCreate()}>
                    Create a task
                  </button>
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
                onOpen={openTask}
                onMove={moveTask}
                onCreate={openCreate}
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
      {toast && (
        <div className={`toast toast--${toast.kind}`} role="status" data-testid="toast">
          {toast.text}
        </div>
      )}
      {route && (
        <TaskDialog
          key={route.mode === 'edit' ? route.id : `new-${route.status}`}
          target={route}
          task={route.mode === 'edit' ? state.tasks[route.id] : undefined}
          loaded={state.loaded}
          agents={agentList}
          now={now}
          onClose={closeDialog}
          onSaved={(task) => dispatch({ kind: 'local-task', task })}
          onDeleted={(id) => dispatch({ kind: 'local-delete', id })}
        />
      )}
    </div>
  );
}
