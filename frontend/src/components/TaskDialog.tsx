import { useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import type { Agent, Comment, Priority, Task, TaskInput, TaskStatus } from '../lib/types';
import { PRIORITIES, PRIORITY_LABELS, STATUSES, STATUS_LABELS } from '../lib/types';
import { ApiError, createTask, deleteTask, newIdempotencyKey, updateTask } from '../lib/api';
import { fieldKey, formatAge, type Notes } from '../lib/board';
import { agentName, changedBy, describeConflict, holderOf, openBlockers, waitsForLabel } from '../lib/present';
import { serverNow } from '../lib/clock';
import { BlockersField } from './BlockersField';
import { ConflictNotice } from './ConflictNotice';
import { LeaseCountdown } from './LeaseCountdown';
import { Modal } from './Modal';
import { TaskNotes } from './TaskNotes';

export type DialogTarget = { mode: 'create'; status: TaskStatus } | { mode: 'edit'; id: string };

export interface NotesApi {
  open(taskId: string): Promise<void>;
  load(taskId: string, after?: string): Promise<void>;
  added(comment: Comment): void;
}

interface Props {
  target: DialogTarget;
  /** The task being edited as the board currently knows it (live); undefined if gone. */
  task: Task | undefined;
  loaded: boolean;
  agents: Agent[];
  agentsById: Record<string, Agent>;
  tasks: Record<string, Task>;
  /** The signed-in agent's id. */
  me: string | null;
  notes: Notes | null;
  notesApi: NotesApi;
  now: number;
  onClose(): void;
  onSaved(task: Task): void;
  onDeleted(id: string): void;
  /** A viewer's: the task is shown, nothing can be changed. */
  readOnly?: boolean;
}

interface Form {
  title: string;
  description: string;
  status: TaskStatus;
  priority: Priority | '';
  assignedAgent: string;
  tags: string;
  blockedBy: string[];
}

const FIELDS = ['title', 'description', 'status', 'priority', 'assignedAgent', 'tags', 'blockedBy'] as const;
type Field = (typeof FIELDS)[number];

function formFrom(task: Task | undefined, status: TaskStatus): Form {
  return {
    title: task?.title ?? '',
    description: task?.description ?? '',
    status: task?.status ?? status,
    priority: task ? (task.priority ?? '') : 'medium',
    assignedAgent: task?.assignedAgent ?? '',
    tags: task?.tags.join(', ') ?? '',
    blockedBy: task?.blockedBy ?? [],
  };
}

function same(a: Form[Field], b: Form[Field]): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

function parseTags(text: string): string[] {
  const out: string[] = [];
  for (const t of text.split(',')) {
    const tag = t.trim();
    if (tag && !out.includes(tag)) out.push(tag);
  }
  return out;
}

/** What the conflict notice says was not saved. */
type Conflict = { current: Task; lost: string };

export function TaskDialog({ target, task, loaded, agents, agentsById, tasks, me, notes, notesApi, now, onClose, onSaved, onDeleted, readOnly = false }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const isEdit = target.mode === 'edit';
  const [form, setForm] = useState<Form>(() => formFrom(task, target.mode === 'create' ? target.status : 'backlog'));
  const [initial, setInitial] = useState<Form>(form);
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const uid = useId();
  /** The version the form was filled from: every save and delete is made from it (If-Match). */
  const base = useRef<Task | null>(task ?? null);
  const createKey = useRef<string | null>(null);
  const titleRef = useRef<HTMLTextAreaElement>(null);

  // Open before the first paint, so the title field below can measure itself.
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
    if (isEdit && task && base.current === null) seed(task);
  }, [isEdit, task]);

  function seed(from: Task) {
    base.current = from;
    const f = formFrom(from, 'backlog');
    setForm(f);
    setInitial(f);
  }

  const gone = isEdit && loaded && !task;
  const changedElsewhere = isEdit && task && base.current !== null && task.version > base.current.version && !busy && !conflict;

  function set<K extends keyof Form>(key: K, value: Form[K]) {
    setForm((f) => ({ ...f, [key]: value }));
    if (errors[key]) setErrors((e) => ({ ...e, [key]: '' }));
    createKey.current = null;
  }

  /** Discards this person's edits for the task as it is now. */
  function takeCurrent(current: Task) {
    seed(current);
    setConflict(null);
    setErrors({});
    setGeneral(null);
    setInfo(null);
  }

  /** Keeps the fields this person changed, on top of the task as it is now; Save applies them. */
  function keepMine(current: Task) {
    const theirs = formFrom(current, 'backlog');
    const merged = { ...theirs };
    for (const k of FIELDS) if (!same(form[k], initial[k])) (merged as Record<Field, unknown>)[k] = form[k];
    base.current = current;
    setInitial(theirs);
    setForm(merged);
    setConflict(null);
    setInfo('Your changes are kept on top of the current version. Save to apply them.');
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
      blockedBy: form.blockedBy,
    };
    if (!isEdit) {
      const create: TaskInput = { title: full.title, status: full.status, tags };
      if (full.description) create.description = full.description;
      if (full.priority) create.priority = full.priority;
      if (full.assignedAgent) create.assignedAgent = full.assignedAgent;
      if (form.blockedBy.length > 0) create.blockedBy = form.blockedBy;
      return create;
    }
    const patch: TaskInput = {};
    for (const k of FIELDS) {
      if (!same(form[k], initial[k])) (patch as Record<string, unknown>)[k] = full[k];
    }
    return patch;
  }

  /** Shows a refused write: field errors at their fields, a conflict as the task is now. */
  function showError(err: unknown, lost: string) {
    if (!(err instanceof ApiError)) {
      setGeneral('Something went wrong. Please try again.');
      return;
    }
    if (err.status === 412 && err.refusal.current) {
      setConflict({ current: err.refusal.current, lost });
      onSaved(err.refusal.current);
      return;
    }
    const about = task ?? base.current;
    const conflictText = about ? describeConflict(err, { task: about, tasks, agents: agentsById, now: serverNow() }) : null;
    if (conflictText) {
      setGeneral(conflictText);
      return;
    }
    const fieldErrors: Partial<Record<Field, string>> = {};
    const rest: string[] = [];
    for (const d of err.details) {
      const key = fieldKey(d.field) as Field;
      if ((FIELDS as readonly string[]).includes(key)) fieldErrors[key] = fieldErrors[key] ? `${fieldErrors[key]}; ${d.message}` : d.message;
      else rest.push(`${d.field}: ${d.message}`);
    }
    setErrors(fieldErrors);
    if (rest.length > 0 || Object.keys(fieldErrors).length === 0) setGeneral(rest.length > 0 ? rest.join('; ') : err.message);
    const first = Object.keys(fieldErrors)[0];
    if (first) ref.current?.querySelector<HTMLElement>(`[name="${first}"]`)?.focus();
  }

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (busy) return;
    setErrors({});
    setGeneral(null);
    setInfo(null);
    const body = payload();
    if (isEdit && Object.keys(body).length === 0) {
      onClose();
      return;
    }
    setBusy(true);
    try {
      let saved: Task;
      if (target.mode === 'edit') saved = await updateTask(target.id, body, base.current?.version);
      else {
        // The same form sent again (a lost answer, a double click) creates one task.
        createKey.current ??= newIdempotencyKey();
        saved = await createTask(body, createKey.current);
      }
      onSaved(saved);
      onClose();
    } catch (err) {
      setBusy(false);
      showError(err, 'Your changes');
    }
  }

  async function doDelete() {
    if (target.mode !== 'edit') return;
    setBusy(true);
    setGeneral(null);
    try {
      await deleteTask(target.id, base.current?.version);
      onDeleted(target.id);
      onClose();
    } catch (err) {
      setBusy(false);
      setConfirmDelete(false);
      showError(err, 'Your delete');
    }
  }

  const fieldProps = (name: Field) => ({
    id: `${uid}-${name}`,
    name,
    'aria-invalid': errors[name] ? true : undefined,
    'aria-describedby': errors[name] ? `${uid}-${name}-err` : undefined,
    'data-testid': `field-${name}`,
  });
  const fieldError = (name: Field) =>
    errors[name] ? (
      <p className="field__error" id={`${uid}-${name}-err`} data-testid={`error-${name}`} role="alert">
        {errors[name]}
      </p>
    ) : null;

  const holder = task ? holderOf(task, now) : null;
  const waiting = task?.blocked ? openBlockers(task, tasks) : [];

  return (
    <Modal testId="task-dialog" labelledBy={`${uid}-heading`} onClose={onClose} dialogRef={ref}>
      <form className="dialog__form" onSubmit={submit} noValidate>
        <header className="dialog__head">
          <h2 id={`${uid}-heading`}>{readOnly ? 'Task' : isEdit ? 'Edit task' : 'New task'}</h2>
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
        {conflict && (
          <ConflictNotice current={conflict.current} agents={agentsById} me={me} lost={conflict.lost}>
            <button type="button" className="btn btn--ghost btn--sm" onClick={() => takeCurrent(conflict.current)} data-testid="conflict-use-current">
              Discard mine, use this
            </button>
            {conflict.lost === 'Your changes' && (
              <button type="button" className="btn btn--primary btn--sm" onClick={() => keepMine(conflict.current)} data-testid="conflict-keep-mine">
                Keep my changes on top
              </button>
            )}
          </ConflictNotice>
        )}
        {changedElsewhere && task && (
          <p className="notice" data-testid="changed-elsewhere">
            {changedBy(task.updatedBy, agentsById, me).replace(/^./, (c) => c.toUpperCase())} changed this task while it was open here.{' '}
            <button type="button" className="link-btn" onClick={() => takeCurrent(task)}>
              Load the latest
            </button>
          </p>
        )}
        {info && (
          <p className="notice" role="status" data-testid="dialog-info">
            {info}
          </p>
        )}
        {holder && task?.leaseExpiresAt && (
          <p className="notice notice--claim" data-testid="dialog-claim">
            Claimed by <strong>{agentName(holder, agentsById)}</strong>: <LeaseCountdown expiresAt={task.leaseExpiresAt} holder={agentName(holder, agentsById)} />. Only{' '}
            {agentName(holder, agentsById)} or the operator can move, reassign or delete it meanwhile.
          </p>
        )}
        {task?.blocked && (
          <p className="notice notice--warn" data-testid="dialog-blocked">
            {waitsForLabel(task, tasks, waiting)}: it can move to In progress or Done once {waiting.length === 1 ? 'that is' : 'those are'} done.
          </p>
        )}

        {/* A viewer sees the fields as they are; the fieldset disables every one of them. */}
        <fieldset disabled={readOnly} className="dialog__fields" style={{ display: 'contents' }}>
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

        <BlockersField
          value={form.blockedBy}
          onChange={(ids) => set('blockedBy', ids)}
          tasks={tasks}
          selfId={isEdit && target.mode === 'edit' ? target.id : undefined}
          error={errors.blockedBy}
          errorId={`${uid}-blockedBy-err`}
          disabled={gone}
        />
        </fieldset>

        {isEdit && task && (
          <p className="dialog__meta muted" data-testid="dialog-meta">
            Created {formatAge(task.createdAt, now) === 'now' ? 'just now' : `${formatAge(task.createdAt, now)} ago`}
            {task.createdBy ? ` by ${agentName(task.createdBy, agentsById)}` : ''} · updated{' '}
            {formatAge(task.updatedAt, now) === 'now' ? 'just now' : `${formatAge(task.updatedAt, now)} ago`}
            {task.updatedBy ? ` by ${agentName(task.updatedBy, agentsById)}` : ''}
          </p>
        )}

        {general && (
          <p className="notice notice--error" role="alert" data-testid="dialog-error">
            {general}
          </p>
        )}

        <footer className="dialog__foot">
          {isEdit && task && !confirmDelete && !readOnly && (
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
            {readOnly ? 'Close' : 'Cancel'}
          </button>
          {!readOnly && (
            <button type="submit" className="btn btn--primary" disabled={busy || gone || conflict !== null} data-testid="save-task">
              {busy ? 'Saving…' : isEdit ? 'Save' : 'Create task'}
            </button>
          )}
        </footer>
      </form>
      {isEdit && target.mode === 'edit' && !gone && (
        <TaskNotes
          taskId={target.id}
          notes={notes}
          agents={agentsById}
          now={now}
          onOpen={notesApi.open}
          onLoadMore={notesApi.load}
          onAdded={notesApi.added}
          disabled={readOnly}
        />
      )}
    </Modal>
  );
}
