import { useEffect, useId, useRef, useState } from 'react';
import type { Notes } from '../lib/board';
import type { Agent, Comment } from '../lib/types';
import { ApiError, addComment, newIdempotencyKey } from '../lib/api';
import { agentName, formatAgo } from '../lib/present';
import { Avatar } from './Avatar';

/** The API's limit on a note's length. */
const MAX_NOTE_CHARS = 10_000;

interface Props {
  taskId: string;
  notes: Notes | null;
  agents: Record<string, Agent>;
  now: number;
  /** Starts loading the task's notes (the dialog opened). */
  onOpen(taskId: string): Promise<void>;
  /** Reads the notes after `after`. */
  onLoadMore(taskId: string, after: string): Promise<void>;
  onAdded(comment: Comment): void;
  disabled?: boolean;
}

/**
 * Notes on a task: progress, questions, results, from agents and people; oldest first, new
 * ones arriving live. Adding one is safe to retry: the same draft keeps its Idempotency-Key.
 */
export function TaskNotes({ taskId, notes, agents, now, onOpen, onLoadMore, onAdded, disabled }: Props) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  /** One key per draft: a retry after a lost answer cannot add the note twice. */
  const draftKey = useRef<string | null>(null);
  const uid = useId();
  const mine = notes?.taskId === taskId ? notes : null;

  const load = () => {
    setLoadError(null);
    onOpen(taskId).catch((err: unknown) => setLoadError(err instanceof Error ? err.message : 'Could not load the notes.'));
  };
  useEffect(load, [taskId]);

  async function loadMore() {
    const last = mine?.comments[mine.comments.length - 1];
    if (!last) return;
    setLoadingMore(true);
    setLoadError(null);
    try {
      await onLoadMore(taskId, last.id);
    } catch (err) {
      setLoadError(err instanceof Error ? err.message : 'Could not load more notes.');
    } finally {
      setLoadingMore(false);
    }
  }

  async function submit() {
    const body = text;
    if (busy || body.trim() === '') return;
    setBusy(true);
    setError(null);
    draftKey.current ??= newIdempotencyKey();
    try {
      const comment = await addComment(taskId, body, draftKey.current);
      onAdded(comment);
      draftKey.current = null;
      setText('');
    } catch (err) {
      if (err instanceof ApiError && err.details.length > 0) setError(err.details.map((d) => d.message).join('; '));
      else setError(err instanceof Error ? err.message : 'Could not add the note.');
    } finally {
      setBusy(false);
    }
  }

  const comments = mine?.comments ?? [];
  return (
    <section className="notes" aria-labelledby={`${uid}-title`} data-testid="task-notes">
      <h3 id={`${uid}-title`} className="notes__title">
        Notes{mine?.loaded && comments.length > 0 ? <span className="muted"> · {comments.length}{mine.hasMore ? '+' : ''}</span> : null}
      </h3>
      {!mine?.loaded && !loadError && <p className="muted notes__empty">Loading notes…</p>}
      {mine?.loaded && comments.length === 0 && <p className="muted notes__empty">No notes yet. Agents post progress, questions and results here.</p>}
      {comments.length > 0 && (
        <ol className="notes__list">
          {comments.map((c) => (
            <li key={c.id} className="note" data-testid="note" data-comment-id={c.id}>
              <Avatar id={c.author} name={agentName(c.author, agents)} color={agents[c.author]?.avatarColor} size={22} />
              <div className="note__body">
                <p className="note__meta">
                  <span className="note__author" data-testid="note-author">
                    {agentName(c.author, agents)}
                  </span>{' '}
                  <time className="muted" dateTime={new Date(c.createdAt).toISOString()} title={new Date(c.createdAt).toLocaleString()}>
                    {formatAgo(c.createdAt, now) === 'under a minute' ? 'just now' : `${formatAgo(c.createdAt, now)} ago`}
                  </time>
                </p>
                <p className="note__text" data-testid="note-text">
                  {c.text}
                </p>
              </div>
            </li>
          ))}
        </ol>
      )}
      {mine?.hasMore && (
        <button type="button" className="btn btn--ghost btn--sm" onClick={() => void loadMore()} disabled={loadingMore} data-testid="notes-more">
          {loadingMore ? 'Loading…' : 'Show later notes'}
        </button>
      )}
      {loadError && (
        <p className="notice notice--error" role="alert">
          Could not load the notes: {loadError}{' '}
          <button type="button" className="link-btn" onClick={load}>
            Try again
          </button>
        </p>
      )}
      <div className="notes__add">
        <label htmlFor={`${uid}-text`} className="sr-only">
          Add a note
        </label>
        <textarea
          id={`${uid}-text`}
          rows={2}
          value={text}
          maxLength={MAX_NOTE_CHARS}
          onChange={(e) => {
            setText(e.target.value);
            draftKey.current = null;
            if (error) setError(null);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void submit();
            }
          }}
          placeholder="Add a note (Ctrl+Enter to post)"
          disabled={disabled}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${uid}-err` : undefined}
          data-testid="note-input"
        />
        <button type="button" className="btn btn--primary btn--sm" onClick={() => void submit()} disabled={disabled || busy || text.trim() === ''} data-testid="note-add">
          {busy ? 'Posting…' : 'Post note'}
        </button>
      </div>
      {error && (
        <p className="field__error" id={`${uid}-err`} role="alert" data-testid="note-error">
          {error}
        </p>
      )}
    </section>
  );
}
