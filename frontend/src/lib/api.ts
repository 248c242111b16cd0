// The REST client. Every call carries the stored token; every failure becomes an ApiError with
// the server's code, message and per-field details.
import type { Agent, FieldError, McEvent, Task, TaskInput, User } from './types';

const TOKEN_KEY = 'mc.token';
const USER_KEY = 'mc.user';

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function getStoredUser(): User | null {
  try {
    const raw = localStorage.getItem(USER_KEY);
    return raw ? (JSON.parse(raw) as User) : null;
  } catch {
    return null;
  }
}

export function storeSession(token: string, user: User): void {
  localStorage.setItem(TOKEN_KEY, token);
  localStorage.setItem(USER_KEY, JSON.stringify(user));
}

export function clearSession(): void {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(USER_KEY);
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: FieldError[];
  /** Seconds the server asked us to wait (its `Retry-After` header), when it sent one. */
  readonly retryAfter: number | null;

  constructor(status: number, code: string, message: string, details: FieldError[] = [], retryAfter: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

/** The longest wait we honour from `Retry-After`; anything longer is shown as this. */
export const MAX_RETRY_AFTER_S = 3600;

/**
 * Reads a `Retry-After` header: delta-seconds ("30") or an HTTP date. Returns whole seconds
 * from `now`, at least 1 and at most MAX_RETRY_AFTER_S, or null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  const v = value?.trim();
  if (!v || v.length > 64) return null;
  let seconds: number;
  if (/^\d+$/.test(v)) seconds = Number(v);
  else {
    // An HTTP date always ends in GMT (RFC 9110); Date.parse alone takes "-5" for a year.
    const at = /^[A-Za-z]{3,9}, .+ GMT$/.test(v) ? Date.parse(v) : NaN;
    if (Number.isNaN(at)) return null;
    seconds = Math.ceil((at - now) / 1000);
  }
  return Math.min(MAX_RETRY_AFTER_S, Math.max(1, seconds));
}

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called when any authenticated request answers 401: the session is over. */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** Turns any response body into an ApiError; tolerates non-JSON bodies (e.g. a proxy's 502). */
export function errorFromBody(status: number, body: unknown, retryAfter: number | null = null): ApiError {
  const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (err && typeof err === 'object') {
    const details = Array.isArray(err.details)
      ? err.details
          .filter((d): d is FieldError => !!d && typeof d.field === 'string' && typeof d.message === 'string')
          .map((d) => ({ field: d.field, message: d.message }))
      : [];
    return new ApiError(
      status,
      typeof err.code === 'string' ? err.code : 'error',
      typeof err.message === 'string' ? err.message : `Request failed (${status})`,
      details,
      retryAfter,
    );
  }
  if (status === 0) return new ApiError(0, 'network', 'Cannot reach the server');
  return new ApiError(status, 'error', `Request failed (${status})`, [], retryAfter);
}

async function request<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth) {
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server');
  }
  const text = await res.text();
  let json: unknown = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!res.ok) {
    const error = errorFromBody(res.status, json, parseRetryAfter(res.headers.get('Retry-After')));
    if (res.status === 401 && auth) unauthorizedListeners.forEach((l) => l());
    throw error;
  }
  return json as T;
}

export async function login(username: string, password: string): Promise<{ token: string; user: User }> {
  return request('POST', '/api/auth/login', { username, password }, false);
}

export async function logout(): Promise<void> {
  await request('POST', '/api/auth/logout');
}

export async function getTasks(): Promise<Task[]> {
  return (await request<{ tasks: Task[] }>('GET', '/api/tasks')).tasks;
}

export async function getTask(id: string): Promise<Task> {
  return (await request<{ task: Task }>('GET', `/api/tasks/${encodeURIComponent(id)}`)).task;
}

export async function createTask(task: TaskInput): Promise<Task> {
  return (await request<{ task: Task }>('POST', '/api/tasks', task)).task;
}

export async function updateTask(id: string, patch: TaskInput): Promise<Task> {
  return (await request<{ task: Task }>('PATCH', `/api/tasks/${encodeURIComponent(id)}`, patch)).task;
}

export async function deleteTask(id: string): Promise<void> {
  await request('DELETE', `/api/tasks/${encodeURIComponent(id)}`);
}

export async function getAgents(): Promise<Agent[]> {
  return (await request<{ agents: Agent[] }>('GET', '/api/agents')).agents;
}

export async function getEvents(limit = 100): Promise<McEvent[]> {
  return (await request<{ events: McEvent[] }>('GET', `/api/events?limit=${limit}`)).events;
}

/** Everything the board shows, fetched together: the resync after a (re)connect. */
export async function getSnapshot(): Promise<{ tasks: Task[]; agents: Agent[]; events: McEvent[] }> {
  const [tasks, agents, events] = await Promise.all([getTasks(), getAgents(), getEvents()]);
  return { tasks, agents, events };
}
