// The live connection: Socket.io on the same origin, authenticated in the handshake. It reports
// every server message as a LiveMessage and every (re)connect, after which the caller resyncs.
import { io, type Socket } from 'socket.io-client';
import type { LiveMessage } from './board';
import type { Agent, McEvent, Task } from './types';

export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected';

export interface LiveHandlers {
  onMessage(msg: LiveMessage): void;
  onStatus(status: ConnectionStatus, detail?: string): void;
  /** Every successful (re)connect: the caller refetches full state so nothing is missed. */
  onConnected(): void;
  /** The server refused the token. */
  onAuthError?(message: string): void;
}

export interface LiveConnection {
  socket: Socket;
  close(): void;
}

export function connectLive(token: string, handlers: LiveHandlers, url?: string): LiveConnection {
  const opts = {
    path: '/socket.io',
    auth: { token },
    reconnectionDelay: 500,
    reconnectionDelayMax: 3000,
    timeout: 5000,
  };
  const socket = url ? io(url, opts) : io(opts);
  let closed = false;

  handlers.onStatus('connecting');

  socket.on('connect', () => {
    handlers.onStatus('connected');
    handlers.onConnected();
  });
  socket.on('disconnect', (reason) => {
    if (closed) return;
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
    if (/unauthori[sz]ed|not valid|invalid token|expired|revoked/i.test(err.message)) handlers.onAuthError?.(err.message);
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

  socket.on('task.created', (data: { task: Task }) => data?.task && handlers.onMessage({ type: 'task.created', task: data.task }));
  socket.on('task.updated', (data: { task: Task }) => data?.task && handlers.onMessage({ type: 'task.updated', task: data.task }));
  socket.on('task.deleted', (data: { taskId: string }) => data?.taskId && handlers.onMessage({ type: 'task.deleted', taskId: data.taskId }));
  socket.on('agent.status_changed', (data: { agent: Agent }) => data?.agent && handlers.onMessage({ type: 'agent.status_changed', agent: data.agent }));
  socket.on('event.new', (data: { event: McEvent }) => data?.event && handlers.onMessage({ type: 'event.new', event: data.event }));

  // The browser knows before the socket's heartbeat does: drop and restore with the network.
  const goOffline = () => {
    if (socket.connected) socket.disconnect();
    handlers.onStatus('disconnected', 'offline');
  };
  const goOnline = () => {
    if (!closed && !socket.connected) socket.connect();
  };
  window.addEventListener('offline', goOffline);
  window.addEventListener('online', goOnline);

  return {
    socket,
    close() {
      closed = true;
      window.removeEventListener('offline', goOffline);
      window.removeEventListener('online', goOnline);
      socket.removeAllListeners();
      socket.disconnect();
    },
  };
}
