import { useId, useMemo, useState } from 'react';
import type { Task } from '../lib/types';
import { STATUS_LABELS } from '../lib/types';

/** The API's limit on blockers per task. */
export const MAX_BLOCKERS = 20;
/** Matches offered at once while typing. */
const MAX_MATCHES = 6;

interface Props {
  /** Ids of the tasks this one waits for. */
  value: string[];
  onChange(ids: string[]): void;
  tasks: Record<string, Task>;
  /** The task being edited (it cannot wait for itself); undefined when creating. */
  selfId?: string;
  error?: string;
  errorId: string;
  disabled?: boolean;
}

/**
 * "Waits for": the tasks that must be done before this one can start. Chosen ones are listed
 * with their column (done ones no longer block); more are found by typing part of a title.
 */
export function BlockersField({ value, onChange, tasks, selfId, error, errorId, disabled }: Props) {
  const [query, setQuery] = useState('');
  const uid = useId();
  const full = value.length >= MAX_BLOCKERS;
  const matches = useMemo(() => {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    const out: Task[] = [];
    for (const t of Object.values(tasks)) {
      if (t.id === selfId || value.includes(t.id) || !t.title.toLowerCase().includes(q)) continue;
      out.push(t);
    }
    // Unfinished first (what one waits for), then by title.
    out.sort((a, b) => Number(a.status === 'done') - Number(b.status === 'done') || a.title.localeCompare(b.title));
    return out.slice(0, MAX_MATCHES);
  }, [query, tasks, selfId, value]);

  const add = (id: string) => {
    if (full || value.includes(id)) return;
    onChange([...value, id]);
    setQuery('');
  };

  return (
    <div className="field" data-testid="field-blockedBy">
      <label htmlFor={`${uid}-search`}>Waits for</label>
      {value.length > 0 && (
        <ul className="blockers" aria-label="Tasks this one waits for">
          {value.map((id) => {
            const t = tasks[id];
            const done = t?.status === 'done';
            return (
              <li key={id} className={`blocker${done ? ' blocker--done' : ''}`} data-testid="blocker" data-task-id={id}>
                <span className="blocker__title">{t ? t.title : id}</span>
                <span className="blocker__status muted">{t ? (done ? 'Done: no longer blocks' : STATUS_LABELS[t.status]) : 'not on the board'}</span>
                <button
                  type="button"
                  className="icon-btn blocker__remove"
                  onClick={() => onChange(value.filter((v) => v !== id))}
                  aria-label={`Stop waiting for “${t ? t.title : id}”`}
                  disabled={disabled}
                  data-testid="blocker-remove"
                >
                  ×
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <input
        id={`${uid}-search`}
        name="blockedBy"
        type="search"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            if (matches[0]) add(matches[0].id);
          }
        }}
        placeholder={full ? `At most ${MAX_BLOCKERS} tasks` : 'Type part of a title to add a task'}
        disabled={disabled || full}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${uid}-hint${error ? ` ${errorId}` : ''}`}
        aria-controls={`${uid}-matches`}
        autoComplete="off"
        data-testid="blocker-search"
      />
      <ul className="blocker-matches" id={`${uid}-matches`} aria-label="Matching tasks" hidden={matches.length === 0}>
        {matches.map((t) => (
          <li key={t.id}>
            <button type="button" className="blocker-match" onClick={() => add(t.id)} data-testid="blocker-match" data-task-id={t.id}>
              <span className="blocker__title">{t.title}</span>
              <span className="muted">{STATUS_LABELS[t.status]}</span>
            </button>
          </li>
        ))}
      </ul>
      {query.trim() !== '' && matches.length === 0 && <p className="field__hint">No other task matches.</p>}
      <p className="field__hint" id={`${uid}-hint`}>
        It cannot move to In progress or Done until these are done.
      </p>
      {error && (
        <p className="field__error" id={errorId} data-testid="error-blockedBy" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
