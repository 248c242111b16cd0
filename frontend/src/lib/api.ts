// The REST client. Every call carries the stored token; every failure becomes an ApiError with
// the server's code, message and per-field details, and what a refusal says beside them (who
// holds a claimed task, what a blocked one waits for, the task as it is now after a 412).
import type { Access, Agent, Comment, FieldError, McEvent, Person, Task, TaskInput, TokenInfo, User } from './types';
import { noteServerDate } from './clock';

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
    if (!raw) return null;
    const user = JSON.parse(raw) as User;
    // Sessions stored before the flag existed all came from the password sign-in: the operator's.
    return typeof user.operator === 'boolean' ? user : { ...user, operator: true };
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

/** What a refusal carries beside its code and message. */
export interface Refusal {
  /** 409 `held`: the agent holding the task, and when its lease ends (epoch ms). */
  holder?: string;
  leaseExpiresAt?: number;
  /** 409 `blocked`: the unfinished tasks it waits for. */
  blockers?: string[];
  /** 412 `precondition_failed`: the task as it is now. */
  current?: Task;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: FieldError[];
  /** Seconds the server asked us to wait (its `Retry-After` header), when it sent one. */
  readonly retryAfter: number | null;
  readonly refusal: Refusal;

  constructor(status: number, code: string, message: string, details: FieldError[] = [], retryAfter: number | null = null, refusal: Refusal = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
    this.refusal = refusal;
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

interface ErrorShape {
  error?: { code?: unknown; message?: unknown; details?: unknown; holder?: unknown; leaseExpiresAt?: unknown; blockers?: unknown };
  task?: unknown;
}

function isTask(t: unknown): t is Task {
  const x = t as Task | null;
  return !!x && typeof x === 'object' && typeof x.id === 'string' && typeof x.title === 'string' && typeof x.version === 'number';
}

/** Turns any response body into an ApiError; tolerates non-JSON bodies (e.g. a proxy's 502). */
export function errorFromBody(status: number, body: unknown, retryAfter: number | null = null): ApiError {
  const shape = body as ErrorShape | null;
  const err = shape?.error;
  if (err && typeof err === 'object') {
    const details = Array.isArray(err.details)
      ? err.details
          .filter((d): d is FieldError => !!d && typeof d.field === 'string' && typeof d.message === 'string')
          .map((d) => ({ field: d.field, message: d.message }))
      : [];
    const refusal: Refusal = {};
    if (typeof err.holder === 'string') refusal.holder = err.holder;
    if (typeof err.leaseExpiresAt === 'number') refusal.leaseExpiresAt = err.leaseExpiresAt;
    if (Array.isArray(err.blockers)) refusal.blockers = err.blockers.filter((b): b is string => typeof b === 'string');
    if (isTask(shape?.task)) refusal.current = shape.task;
    return new ApiError(
      status,
      typeof err.code === 'string' ? err.code : 'error',
      typeof err.message === 'string' ? err.message : `Request failed (${status})`,
      details,
      retryAfter,
      refusal,
    );
  }
  if (status === 0) return new ApiError(0, 'network', 'Cannot reach the server');
  return new ApiError(status, 'error', `Request failed (${status})`, [], retryAfter);
}

interface RequestOptions {
  /** Send the stored token (default). */
  auth?: boolean;
  /** The task version this write was based on: `If-Match: "<version>"`, 412 if it changed. */
  ifMatch?: number;
  /** Makes a retry of this write safe: the server answers it once. */
  idempotencyKey?: string;
}

async function request<T>(method: string, path: string, body?: unknown, { auth = true, ifMatch, idempotencyKey }: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth) {
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
  }
  if (ifMatch !== undefined) headers['If-Match'] = `"${ifMatch}"`;
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  let res: Response;
  const sentAt = Date.now();
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server');
  }
  noteServerDate(res.headers.get('Date'), sentAt, Date.now());
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
  return request('POST', '/api/auth/login', { username, password }, { auth: false });
}

export async function logout(): Promise<void> {
  await request('POST', '/api/auth/logout');
}

/** Chooses a password with an invitation's token, and signs in. */
export async function acceptInvite(token: string, password: string): Promise<{ token: string; user: User }> {
  return request('POST', '/api/auth/invite', { token, password }, { auth: false });
}

/** Changes one's own password; `signOutElsewhere` ends every other session. */
export async function changePassword(currentPassword: string, newPassword: string, signOutElsewhere: boolean): Promise<number> {
  const answer = await request<{ signedOut: number }>('POST', '/api/auth/password', { currentPassword, newPassword, signOutElsewhere });
  return answer.signedOut;
}

const userPath = (id: string) => `/api/users/${encodeURIComponent(id)}`;

export async function getUsers(): Promise<Person[]> {
  return (await request<{ users: Person[] }>('GET', '/api/users')).users;
}

/** Adds a person; without a password the answer carries their one-time invitation. */
export async function addUser(user: { username: string; name: string; role: Access; password?: string }): Promise<{ user: Person; invite?: { token: string; url: string; expiresAt: number } }> {
  return request('POST', '/api/users', user);
}

export async function updateUser(id: string, changes: { name?: string; role?: Access; disabled?: boolean }): Promise<Person> {
  return (await request<{ user: Person }>('PATCH', userPath(id), changes)).user;
}

export async function removeUser(id: string): Promise<void> {
  await request('DELETE', userPath(id));
}

const taskPath = (id: string) => `/api/tasks/${encodeURIComponent(id)}`;
const agentPath = (id: string) => `/api/agents/${encodeURIComponent(id)}`;

/** Every task, and the change log position the list was read at. */
export async function getTasks(): Promise<{ tasks: Task[]; seq?: number }> {
  return request<{ tasks: Task[]; seq?: number }>('GET', '/api/tasks');
}

export async function getTask(id: string): Promise<Task> {
  return (await request<{ task: Task }>('GET', taskPath(id))).task;
}

export async function createTask(task: TaskInput, idempotencyKey?: string): Promise<Task> {
  return (await request<{ task: Task }>('POST', '/api/tasks', task, { idempotencyKey })).task;
}

/** `version`: the one the change was made from; the server refuses (412) if it is not current. */
export async function updateTask(id: string, patch: TaskInput, version?: number): Promise<Task> {
  return (await request<{ task: Task }>('PATCH', taskPath(id), patch, { ifMatch: version })).task;
}

export async function deleteTask(id: string, version?: number): Promise<void> {
  await request('DELETE', taskPath(id), undefined, { ifMatch: version });
}

/** Every agent, and the change log position the list was read at. */
export async function getAgents(): Promise<{ agents: Agent[]; seq?: number }> {
  return request<{ agents: Agent[]; seq?: number }>('GET', '/api/agents');
}

export async function getEvents(limit = 100): Promise<McEvent[]> {
  return (await request<{ events: McEvent[] }>('GET', `/api/events?limit=${limit}`)).events;
}

/** Everything the board shows: the fallback when the change log cannot bring it up to date. */
export async function getSnapshot(): Promise<{ tasks: Task[]; agents: Agent[]; events: McEvent[]; tasksSeq?: number; agentsSeq?: number }> {
  const [tasks, agents] = await Promise.all([getTasks(), getAgents()]);
  // Read after the lists, so the feed holds every line up to their position (lines past it
  // arrive live too, and are told apart by id).
  const events = await getEvents();
  return { tasks: tasks.tasks, agents: agents.agents, events, tasksSeq: tasks.seq, agentsSeq: agents.seq };
}

/** How many notes one request reads (the API's maximum). */
export const COMMENTS_PAGE = 500;

/** A task's notes, oldest first, after the note `after` when given. */
export async function getComments(taskId: string, after?: string): Promise<{ comments: Comment[]; hasMore: boolean }> {
  const q = new URLSearchParams({ limit: String(COMMENTS_PAGE) });
  if (after) q.set('after', after);
  return request('GET', `${taskPath(taskId)}/comments?${q}`);
}

export async function addComment(taskId: string, text: string, idempotencyKey?: string): Promise<Comment> {
  return (await request<{ comment: Comment }>('POST', `${taskPath(taskId)}/comments`, { text }, { idempotencyKey })).comment;
}

export async function getTokens(agentId: string): Promise<TokenInfo[]> {
  return (await request<{ tokens: TokenInfo[] }>('GET', `${agentPath(agentId)}/tokens`)).tokens;
}

export async function revokeToken(agentId: string, tokenId: string): Promise<void> {
  await request('DELETE', `${agentPath(agentId)}/tokens/${encodeURIComponent(tokenId)}`);
}

/** Revokes every token of the agent; how many. */
export async function revokeAllTokens(agentId: string): Promise<number> {
  return (await request<{ revoked: number }>('DELETE', `${agentPath(agentId)}/tokens`)).revoked;
}

export async function removeAgent(agentId: string): Promise<void> {
  await request('DELETE', agentPath(agentId));
}

/** A fresh key for a write that may be retried (random; not a secret). */
export function newIdempotencyKey(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * The id the server lists this session's token under (hex SHA-256 of the token's `jti`), so the
 * tokens list can say which one this browser uses. Null where the browser cannot hash (pages
 * served over plain HTTP from another machine) or the token is not a JWT.
 */
export async function tokenIdOf(token: string): Promise<string | null> {
  try {
    const part = token.split('.')[1];
    if (!part || part.length > 4096 || typeof crypto === 'undefined' || !crypto.subtle) return null;
    const json = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as { jti?: unknown };
    if (typeof json.jti !== 'string') return null;
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(json.jti));
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  } catch {
    return null;
  }
}
