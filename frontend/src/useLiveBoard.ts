// The board kept live: the first snapshot over REST, then the Socket.io stream from that
// snapshot's position on. A dropped connection reconnects on its own and resumes from the
// board's position (`since`), so a reconnect costs only what was missed; only when the server's
// log no longer reaches back (`resync_required`), or the board has no position, is the snapshot
// fetched again. The reducer over `lib/board.ts` applies every change once, in seq order.
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import * as api from './lib/api';
import {
  addNotes,
  applyLive,
  applyLocalAgentRemoved,
  applyLocalDelete,
  applyLocalTask,
  closeNotes,
  emptyState,
  failResync,
  finishResync,
  openNotes,
  revertOptimistic,
  startResync,
  type BoardState,
  type LiveMessage,
  type Snapshot,
} from './lib/board';
import { connectLive, type ConnectionStatus, type LiveConnection } from './lib/socket';
import type { Comment, Task } from './lib/types';

type Action =
  | { kind: 'live'; msg: LiveMessage }
  | { kind: 'resync-start'; id: number }
  | { kind: 'resync-done'; id: number; snapshot: Snapshot }
  | { kind: 'resync-fail'; id: number }
  | { kind: 'local-task'; task: Task }
  | { kind: 'local-delete'; id: string }
  | { kind: 'local-agent-removed'; id: string }
  | { kind: 'revert'; optimistic: Task; previous: Task }
  | { kind: 'notes-open'; taskId: string }
  | { kind: 'notes-close' }
  | { kind: 'notes'; taskId: string; comments: Comment[]; hasMore?: boolean };

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
    case 'local-agent-removed':
      return applyLocalAgentRemoved(state, a.id);
    case 'revert':
      return revertOptimistic(state, a.optimistic, a.previous);
    case 'notes-open':
      return openNotes(state, a.taskId);
    case 'notes-close':
      return closeNotes(state);
    case 'notes':
      return addNotes(state, a.taskId, a.comments, a.hasMore);
  }
}

export interface Conn {
  status: ConnectionStatus;
  everConnected: boolean;
}

/** What the reconnect banner says: changes replayed, or the board reloaded (and why). */
export type CatchUp = { replayed: number } | 'gap' | 'reloaded';

export function useLiveBoard(token: string, onRefreshFailed: (message: string) => void) {
  const [state, dispatch] = useReducer(reducer, undefined, emptyState);
  const [conn, setConn] = useState<Conn>({ status: 'connecting', everConnected: false });
  const [loadError, setLoadError] = useState<string | null>(null);
  const [catchUp, setCatchUp] = useState<{ id: number; value: CatchUp } | null>(null);
  const syncCounter = useRef(0);
  const everConnected = useRef(false);
  /** A reconnect resumed from a position: the banner waits for the server's `resumed`. */
  const awaitingResume = useRef(false);
  /** The next `resumed` follows a restart of our own, after the banner was shown: say nothing. */
  const quietResume = useRef(false);
  const liveRef = useRef<LiveConnection | null>(null);
  /** The board's position, read by the socket's handshake on every (re)connect. */
  const position = useRef<number | null>(null);
  const notesTask = useRef<string | null>(null);
  useEffect(() => {
    position.current = state.seq;
  }, [state.seq]);
  useEffect(() => {
    notesTask.current = state.notes?.taskId ?? null;
  }, [state.notes?.taskId]);

  const loadNotes = useCallback(async (taskId: string, after?: string) => {
    const page = await api.getComments(taskId, after);
    dispatch({ kind: 'notes', taskId, comments: page.comments, hasMore: page.hasMore });
  }, []);

  const showCatchUp = useCallback((value: CatchUp) => setCatchUp({ id: Date.now() + Math.random(), value }), []);

  useEffect(() => {
    if (!catchUp) return;
    const t = setTimeout(() => setCatchUp((cur) => (cur?.id === catchUp.id ? null : cur)), 10_000);
    return () => clearTimeout(t);
  }, [catchUp]);

  const resync = useCallback(
    /** `restart`: open a new connection from the snapshot's position once it is in. */
    async (reason: 'initial' | 'reconnect' | 'gap' | 'retry', restart = false) => {
      const id = ++syncCounter.current;
      dispatch({ kind: 'resync-start', id });
      position.current = null;
      try {
        const snapshot = await api.getSnapshot();
        dispatch({ kind: 'resync-done', id, snapshot });
        // The lower list position is where the stream must resume (the reducer may get further).
        if (id === syncCounter.current) {
          const { tasksSeq, agentsSeq } = snapshot;
          position.current = typeof tasksSeq === 'number' && typeof agentsSeq === 'number' ? Math.min(tasksSeq, agentsSeq) : null;
        }
        setLoadError(null);
        if (reason === 'reconnect' || reason === 'gap') showCatchUp(reason === 'gap' ? 'gap' : 'reloaded');
        if (restart && id === syncCounter.current) {
          quietResume.current = true;
          liveRef.current?.restart();
        }
        // Notes that went by while the board had no position: read the open dialog's again.
        const open = notesTask.current;
        if (open && reason !== 'initial') loadNotes(open).catch(() => undefined);
      } catch (err) {
        dispatch({ kind: 'resync-fail', id });
        const msg = err instanceof Error ? err.message : 'Could not load the board.';
        setLoadError(msg);
        if (err instanceof api.ApiError && err.status === 401) return;
        if (reason !== 'initial') onRefreshFailed(msg);
      }
    },
    [showCatchUp, loadNotes, onRefreshFailed],
  );

  useEffect(() => {
    let cancelled = false;
    const live = connectLive(token, () => position.current, {
      onMessage: (msg) => dispatch({ kind: 'live', msg }),
      onStatus: (status) => setConn({ status, everConnected: everConnected.current }),
      onConnected: (resuming) => {
        const wasConnected = everConnected.current;
        everConnected.current = true;
        setConn({ status: 'connected', everConnected: true });
        awaitingResume.current = resuming && wasConnected;
        // Without a position (the first snapshot failed, or a resync is under way) the
        // snapshot is the only way to be sure of the board.
        if (!resuming) void resync(wasConnected ? 'reconnect' : 'retry');
      },
      onResumed: ({ replayed }) => {
        if (quietResume.current) {
          quietResume.current = false;
          awaitingResume.current = false;
          return;
        }
        if (!awaitingResume.current) return;
        awaitingResume.current = false;
        showCatchUp({ replayed });
      },
      onResyncRequired: ({ since, latest }) => {
        awaitingResume.current = false;
        // A position past the end of the server's log (its database was replaced by an older
        // one): the server keeps that socket waiting for changes past `since`, so it would hear
        // nothing more. After the snapshot, start a new connection from the snapshot's position.
        void resync('gap', since > latest);
      },
      onAuthError: () => {
        // Let the REST API decide: a 401 there ends the session.
        api.getAgents().catch(() => undefined);
      },
    });
    liveRef.current = live;
    // The board first, over REST; the live stream then starts from the snapshot's position.
    void resync('initial').finally(() => {
      if (!cancelled) live.open();
    });
    return () => {
      cancelled = true;
      liveRef.current = null;
      live.close();
    };
  }, [token, resync, showCatchUp]);

  const openTaskNotes = useCallback(
    (taskId: string) => {
      dispatch({ kind: 'notes-open', taskId });
      return loadNotes(taskId);
    },
    [loadNotes],
  );
  const closeTaskNotes = useCallback(() => dispatch({ kind: 'notes-close' }), []);
  const notes = useMemo(() => ({ open: openTaskNotes, close: closeTaskNotes, load: loadNotes }), [openTaskNotes, closeTaskNotes, loadNotes]);
  const dismissCatchUp = useCallback(() => setCatchUp(null), []);
  const retry = useCallback(() => void resync('retry'), [resync]);

  return {
    state,
    dispatch,
    conn,
    loadError,
    catchUp: catchUp?.value ?? null,
    dismissCatchUp,
    retry,
    notes,
  };
}

export type LiveBoard = ReturnType<typeof useLiveBoard>;
