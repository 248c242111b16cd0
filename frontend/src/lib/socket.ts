// The live connection: Socket.io on the same origin, authenticated in the handshake. Every
// (re)connect, including the client's own after a dropped transport, sends the board's position
// (`since`) when it has one: the server first replays every change after it, in order, then says
// `resumed` (how many it replayed), or `resync_required` when its log no longer reaches back.
import { io, type Socket } from 'socket.io-client';
import type { LiveMessage } from './board';
import type { Agent, Comment, McEvent, Task } from './types';

export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected';

/** The server caught this socket up: it was sent `replayed` changes after `since`, up to `seq`. */
export interface Resumed {
  since: number;
  seq: number;
  replayed: number;
}

/** The server's log does not reach back to `since`: it holds `oldest`..`latest`. */
export interface ResyncRequired {
  since: number;
  oldest: number | null;
  latest: number;
}

export interface LiveHandlers {
  onMessage(msg: LiveMessage): void;
  onStatus(status: ConnectionStatus, detail?: string): void;
  /** Every successful (re)connect; `resuming`: it sent a position, so a catch-up follows. */
  onConnected(resuming: boolean): void;
  onResumed(info: Resumed): void;
  /** The log no longer holds every change after the position: reload the snapshot. */
  onResyncRequired(info: ResyncRequired): void;
  /** The server refused the token. */
  onAuthError?(message: string): void;
}

export interface LiveConnection {
  socket: Socket;
  /** Opens the connection (it is created closed, so the first snapshot can come first). */
  open(): void;
  /** Starts over with a new connection, from the board's position now. */
  restart(): void;
  close(): void;
}

type Payload<K extends string, T> = { [key in K]: T } & { seq?: number };

function seqOf(data: { seq?: unknown }): number | undefined {
  return typeof data.seq === 'number' && Number.isSafeInteger(data.seq) ? data.seq : undefined;
}

/** `position()`: the board's change log position now, or null to be sent a fresh start. */
export function connectLive(token: string, position: () => number | null, handlers: LiveHandlers, url?: string): LiveConnection {
  let resuming = false;
  const opts = {
    path: '/socket.io',
    autoConnect: false,
    // Asked again on every attempt, so an automatic reconnect resumes from where the board is.
    auth: (cb: (data: object) => void) => {
      const since = position();
      resuming = since !== null;
      cb(resuming ? { token, since } : { token });
    },
    // WebSocket first: it needs no sticky sessions, so any server process behind a load
    // balancer can carry it. Long-polling (which does need them) only when WebSockets fail.
    transports: ['websocket', 'polling'],
    tryAllTransports: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 3000,
    timeout: 5000,
  };
  const socket = url ? io(url, opts) : io(opts);
  let closed = false;
  let restarting = false;

  socket.on('connect', () => {
    handlers.onStatus('connected');
    handlers.onConnected(resuming);
  });
  socket.on('disconnect', (reason) => {
    if (closed || restarting) return;
    handlers.onStatus('disconnected', reason);
    // A server-side disconnect is not retried by the client on its own: retry after a pause.
    if (reason === 'io server disconnect') {
      setTimeout(() => {
        if (!closed && !socket.connected) socket.connect();
      }, 1000);
    }
  });
  socket.on('connect_error', (err: Error) => {
    if (closed) return;
    handlers.onStatus('disconnected', err.message);
    if (/unauthori[sz]ed|not valid|invalid token|expired|revoked|not registered/i.test(err.message)) handlers.onAuthError?.(err.message);
    // After a refused handshake (middleware error) socket.io-client stops retrying: keep trying.
    if (!socket.active) {
      setTimeout(() => {
        if (!closed && !socket.connected) socket.connect();
      }, 2000);
    }
  });
  socket.on('auth_error', (data: { message?: string } | undefined) => {
    handlers.onAuthError?.(data?.message ?? 'unauthorized');
  });
  socket.on('resumed', (data: Partial<Resumed> | undefined) => {
    const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
    handlers.onResumed({ since: n(data?.since), seq: n(data?.seq), replayed: n(data?.replayed) });
  });
  socket.on('resync_required', (data: Partial<ResyncRequired> | undefined) => {
    const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    handlers.onResyncRequired({ since: n(data?.since) ?? 0, oldest: n(data?.oldest), latest: n(data?.latest) ?? 0 });
  });

  const on = <K extends string, T>(name: string, key: K, make: (value: T, seq: number | undefined) => LiveMessage) =>
    socket.on(name, (data: Payload<K, T> | undefined) => {
      if (data && data[key] !== undefined && data[key] !== null) handlers.onMessage(make(data[key], seqOf(data)));
    });
  on('task.created', 'task', (task: Task, seq) => ({ type: 'task.created', task, seq }));
  on('task.updated', 'task', (task: Task, seq) => ({ type: 'task.updated', task, seq }));
  on('task.deleted', 'taskId', (taskId: string, seq) => ({ type: 'task.deleted', taskId, seq }));
  on('agent.status_changed', 'agent', (agent: Agent, seq) => ({ type: 'agent.status_changed', agent, seq }));
  on('agent.removed', 'agentId', (agentId: string, seq) => ({ type: 'agent.removed', agentId, seq }));
  on('event.new', 'event', (event: McEvent, seq) => ({ type: 'event.new', event, seq }));
  on('comment.created', 'comment', (comment: Comment, seq) => ({ type: 'comment.created', comment, seq }));

  // The browser knows before the socket's heartbeat does: drop and restore with the network.
  const goOffline = () => {
    if (socket.connected) socket.disconnect();
    handlers.onStatus('disconnected', 'offline');
  };
  const goOnline = () => {
    if (!closed && !socket.connected) socket.connect();
  };

  return {
    socket,
    open() {
      if (closed) return;
      window.addEventListener('offline', goOffline);
      window.addEventListener('online', goOnline);
      handlers.onStatus('connecting');
      socket.connect();
    },
    restart() {
      if (closed) return;
      restarting = true;
      socket.disconnect();
      restarting = false;
      socket.connect();
    },
    close() {
      closed = true;
      window.removeEventListener('offline', goOffline);
      window.removeEventListener('online', goOnline);
      socket.removeAllListeners();
      socket.disconnect();
    },
  };
}
