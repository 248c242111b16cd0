import { useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import type { Agent, Priority, Task, TaskInput, TaskStatus } from '../lib/types';
import { PRIORITIES, PRIORITY_LABELS, STATUSES, STATUS_LABELS } from '../lib/types';
import { ApiError, createTask, deleteTask, updateTask } from '../lib/api';
import { fieldKey, formatAge } from '../lib/board';

export type DialogTarget = { mode: 'create'; status: TaskStatus } | { mode: 'edit'; id: string };

interface Props {
  target: DialogTarget;
  /** The task being edited as the board currently knows it (live); undefined if gone. */
  task: Task | undefined;
  loaded: boolean;
  agents: Agent[];
  now: number;
  onClose(): void;
  onSaved(task: Task): void;
  onDeleted(id: string): void;
}

interface Form {
  title: string;
  description: string;
  status: TaskStatus;
  priority: Priority | '';
  assignedAgent: string;
  tags: string;
}

const FIELDS = ['title', 'description', 'status', 'priority', 'assignedAgent', 'tags'] as const;

function formFrom(task: Task | undefined, status: TaskStatus): Form {
  return {
    title: task?.title ?? '',
    description: task?.description ?? '',
    status: task?.status ?? status,
    priority: task ? (task.priority ?? '') : 'medium',
    assignedAgent: task?.assignedAgent ?? '',
    tags: task?.tags.join(', ') ?? '',
  };
}

function parseTags(text: string): string[] {
  const out: string[] = [];
  for (const t of text.split(',')) {
    const tag = t.trim();
    if (tag && !out.includes(tag)) out.push(tag);
  }
  return out;
}

export function TaskDialog({ target, task, loaded, agents, now, onClose, onSaved, onDeleted }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const isEdit = target.mode === 'edit';
  const [form, setForm] = useState<Form>(() => formFrom(task, target.mode === 'create' ? target.status : 'backlog'));
  const [initial, setInitial] = useState<Form>(form);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const uid = useId();
  const seededFrom = useRef<number | null>(task?.updatedAt ?? null);
  const titleRef = useRef<HTMLTextAreaElement>(null);

  // Open before the first paint, so the title field below can measure itself.
  useLayoutEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);

  // The title field grows with its text, so a long title shows in full (cards clamp it).
  useLayoutEffect(() => {
    const el = titleRef.current;
    if (!el) return;
    const fit = () => {
      el.style.height = 'auto';
      el.style.height = `${el.scrollHeight + (el.offsetHeight - el.clientHeight)}px`;
    };
    fit();
    window.addEventListener('resize', fit);
    return () => window.removeEventListener('resize', fit);
  }, [form.title]);


  // A task opened from a link may arrive after the dialog: fill the form once it does.
  useEffect(() => {
    if (isEdit && task && seededFrom.current === null) {
      seededFrom.current = task.updatedAt;
      const f = formFrom(task, 'backlog');
      setForm(f);
      setInitial(f);
    }
  }, [isEdit, task]);

  const gone = isEdit && loaded && !task;
  const changedElsewhere = isEdit && task && seededFrom.current !== null && task.updatedAt > seededFrom.current && !busy;

  function set<K extends keyof Form>(key: K, value: Form[K]) {
    setForm((f) => ({ ...f, [key]: value }));
    if (errors[key]) setErrors((e) => ({ ...e, [key]: '' }));
  }

  function reloadFromServer() {
    if (!task) return;
    seededFrom.current = task.updatedAt;
    const f = formFrom(task, 'backlog');
    setForm(f);
    setInitial(f);
  }

  function payload(): TaskInput {
    const tags = parseTags(form.tags);
    const full: TaskInput = {
      title: form.title,
      description: form.description.trim() === '' ? null : form.description,
      status: form.status,
      priority: form.priority === '' ? null : form.priority,
      assignedAgent: form.assignedAgent === '' ? null : form.assignedAgent,
      tags,
    };
    if (!isEdit) {
      const create: TaskInput = { title: full.title, status: full.status, tags };
      if (full.description) create.description = full.description;
      if (full.priority) create.priority = full.priority;
      if (full.assignedAgent) create.assignedAgent = full.assignedAgent;
      return create;
    }
    const patch: TaskInput = {};
    for (const k of FIELDS) {
      if (form[k] !== initial[k]) (patch as Record<string, unknown>)[k] = full[k];
    }
    return patch;
  }

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (busy) return;
    setErrors({});
    setGeneral(null);
    const body = payload();
    if (isEdit && Object.keys(body).length === 0) {
      onClose();
      return;
    }
    setBusy(true);
    try {
      const saved = isEdit && target.mode === 'edit' ? await updateTask(target.id, body) : await createTask(body);
      onSaved(saved);
      onClose();
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError) {
        const fieldErrors: Record<string, string> = {};
        const rest: string[] = [];
        for (const d of err.details) {
          const key = fieldKey(d.field);
          if ((FIELDS as readonly string[]).includes(key)) fieldErrors[key] = fieldErrors[key] ? `${fieldErrors[key]}; ${d.message}` : d.message;
          else rest.push(`${d.field}: ${d.message}`);
        }
        setErrors(fieldErrors);
        if (rest.length > 0 || Object.keys(fieldErrors).length === 0) setGeneral(rest.length > 0 ? rest.join('; ') : err.message);
        const first = Object.keys(fieldErrors)[0];
        if (first) ref.current?.querySelector<HTMLElement>(`[name="${first}"]`)?.focus();
      } else {
        setGeneral('Something went wrong. Please try again.');
      }
    }
  }

  async function doDelete() {
    if (target.mode !== 'edit') return;
    setBusy(true);
    setGeneral(null);
    try {
      await deleteTask(target.id);
      onDeleted(target.id);
      onClose();
    } catch (err) {
      setBusy(false);
      setGeneral(err instanceof Error ? err.message : 'Could not delete the task.');
    }
  }

  const fieldProps = (name: (typeof FIELDS)[number]) => ({
    id: `${uid}-${name}`,
    name,
    'aria-invalid': errors[name] ? true : undefined,
    'aria-describedby': errors[name] ? `${uid}-${name}-err` : undefined,
    'data-testid': `field-${name}`,
  });
  const fieldError = (name: (typeof FIELDS)[number]) =>
    errors[name] ? (
      <p className="field__error" id={`${uid}-${name}-err`} data-testid={`error-${name}`} role="alert">
        {errors[name]}
      </p>
    ) : null;

  return (
    <dialog
      ref={ref}
      className="dialog"
      data-testid="task-dialog"
      aria-labelledby={`${uid}-heading`}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current) onClose();
      }}
    >
      <form className="dialog__form" onSubmit={submit} noValidate>
        <header className="dialog__head">
          <h2 id={`${uid}-heading`}>{isEdit ? 'Edit task' : 'New task'}</h2>
          <button type="button" className="icon-btn" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>

        {isEdit && !task && !loaded && <p className="muted">Loading task…</p>}
        {gone && (
          <p className="notice notice--warn" data-testid="task-gone">
            This task no longer exists: it was deleted.
          </p>
        )}
        {changedElsewhere && (
          <p className="notice">
            This task was changed elsewhere.{' '}
            <button type="button" className="link-btn" onClick={reloadFromServer}>
              Load the latest
            </button>
          </p>
        )}

        <div className="field">
          <label htmlFor={`${uid}-title`}>Title</label>
          <textarea
            {...fieldProps('title')}
            ref={titleRef}
            className="field__title"
            rows={1}
            value={form.title}
            // A title is one line: Enter saves, pasted line breaks become spaces.
            onChange={(e) => set('title', e.target.value.replace(/[\r\n]+/g, ' '))}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.nativeEvent.isComposing) {
                e.preventDefault();
                e.currentTarget.form?.requestSubmit();
              }
            }}
            autoFocus={!isEdit}
            placeholder="What needs doing?"
            disabled={gone}
          />
          {fieldError('title')}
        </div>

        <div className="field">
          <label htmlFor={`${uid}-description`}>Description</label>
          <textarea {...fieldProps('description')} rows={4} value={form.description} onChange={(e) => set('description', e.target.value)} placeholder="Details, links, acceptance criteria" disabled={gone} />
          {fieldError('description')}
        </div>

        <div className="field-row">
          <div className="field">
            <label htmlFor={`${uid}-status`}>Status</label>
            <select {...fieldProps('status')} value={form.status} onChange={(e) => set('status', e.target.value as TaskStatus)} disabled={gone}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {STATUS_LABELS[s]}
                </option>
              ))}
            </select>
            {fieldError('status')}
          </div>
          <div className="field">
            <label htmlFor={`${uid}-priority`}>Priority</label>
            <select {...fieldProps('priority')} value={form.priority} onChange={(e) => set('priority', e.target.value as Priority | '')} disabled={gone}>
              <option value="">None</option>
              {PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {PRIORITY_LABELS[p]}
                </option>
              ))}
            </select>
            {fieldError('priority')}
          </div>
        </div>

        <div className="field">
          <label htmlFor={`${uid}-assignedAgent`}>Assignee</label>
          <select {...fieldProps('assignedAgent')} value={form.assignedAgent} onChange={(e) => set('assignedAgent', e.target.value)} disabled={gone}>
            <option value="">Unassigned</option>
            {form.assignedAgent && !agents.some((a) => a.id === form.assignedAgent) && <option value={form.assignedAgent}>{form.assignedAgent}</option>}
            {agents.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name} · {a.role}
              </option>
            ))}
          </select>
          {fieldError('assignedAgent')}
        </div>

        <div className="field">
          <label htmlFor={`${uid}-tags`}>Tags</label>
          <input {...fieldProps('tags')} value={form.tags} onChange={(e) => set('tags', e.target.value)} placeholder="backend, security" disabled={gone} />
          <p className="field__hint">Separate tags with commas.</p>
          {fieldError('tags')}
        </div>

        {isEdit && task && (
          <p className="dialog__meta muted">
            Created {formatAge(task.createdAt, now) === 'now' ? 'just now' : `${formatAge(task.createdAt, now)} ago`}
            {task.createdBy ? ` by ${agents.find((a) => a.id === task.createdBy)?.name ?? task.createdBy}` : ''} · updated{' '}
            {formatAge(task.updatedAt, now) === 'now' ? 'just now' : `${formatAge(task.updatedAt, now)} ago`}
          </p>
        )}

        {general && (
          <p className="notice notice--error" role="alert" data-testid="dialog-error">
            {general}
          </p>
        )}

        <footer className="dialog__foot">
          {isEdit && task && !confirmDelete && (
            <button type="button" className="btn btn--danger-ghost" onClick={() => setConfirmDelete(true)} disabled={busy} data-testid="delete-task">
              Delete
            </button>
          )}
          {isEdit && confirmDelete && (
            <span className="confirm">
              Delete this task?{' '}
              <button type="button" className="btn btn--danger" onClick={doDelete} disabled={busy} data-testid="confirm-delete">
                Delete
              </button>{' '}
              <button type="button" className="btn btn--ghost" onClick={() => setConfirmDelete(false)} disabled={busy}>
                Keep
              </button>
            </span>
          )}
          <span className="spacer" />
          <button type="button" className="btn btn--ghost" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="btn btn--primary" disabled={busy || gone} data-testid="save-task">
            {busy ? 'Saving…' : isEdit ? 'Save' : 'Create task'}
          </button>
        </footer>
      </form>
    </dialog>
  );
}
