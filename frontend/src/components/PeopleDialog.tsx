import { useCallback, useEffect, useId, useState } from 'react';
import type { Access, Person } from '../lib/types';
import { ApiError, addUser, getUsers, removeUser, updateUser } from '../lib/api';
import { Modal } from './Modal';

interface Props {
  /** The signed-in admin's id: they cannot change their own role, disable or remove themselves. */
  me: string | null;
  onClose(): void;
}

const ACCESS: Access[] = ['admin', 'member', 'viewer'];
const ACCESS_HELP: Record<Access, string> = {
  admin: 'everything: people, agents, tokens',
  member: 'works on the board: tasks, claims, comments',
  viewer: 'reads the board and watches it live',
};

function message(err: unknown): string {
  if (err instanceof ApiError && err.details.length > 0) return err.details.map((d) => `${d.field}: ${d.message}`).join('; ');
  return err instanceof Error ? err.message : 'Something went wrong.';
}

/**
 * An admin's page for people: who may sign in and with what role; adding someone (with a
 * password, or a one-time invitation link to pass on), changing a role, disabling and removing.
 * A new role, being disabled or removed ends the person's sessions at once.
 */
export function PeopleDialog({ me, onClose }: Props) {
  const uid = useId();
  const [people, setPeople] = useState<Person[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [form, setForm] = useState({ username: '', name: '', role: 'member' as Access, password: '' });
  const [invite, setInvite] = useState<{ username: string; url: string } | null>(null);

  const load = useCallback(async () => {
    try {
      setPeople(await getUsers());
    } catch (err) {
      setError(message(err));
    }
  }, []);
  useEffect(() => void load(), [load]);

  async function act(work: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await work();
      await load();
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  }

  async function add(e: React.FormEvent) {
    e.preventDefault();
    await act(async () => {
      const answer = await addUser({ ...form, password: form.password || undefined });
      if (answer.invite) {
        const url = answer.invite.url.startsWith('/') ? `${location.origin}${answer.invite.url}` : answer.invite.url;
        setInvite({ username: answer.user.username, url });
      } else setInvite(null);
      setForm({ username: '', name: '', role: 'member', password: '' });
    });
  }

  return (
    <Modal testId="people-dialog" labelledBy={`${uid}-heading`} onClose={onClose}>
      <header className="dialog__head">
        <h2 id={`${uid}-heading`}>People</h2>
        <button type="button" className="icon-btn" onClick={onClose} aria-label="Close">
          ×
        </button>
      </header>
      {error && (
        <p className="notice notice--error" role="alert" data-testid="people-error">
          {error}
        </p>
      )}
      {people === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <ul className="people" data-testid="people-list">
          {people.map((p) => (
            <li key={p.id} className="people__row" data-testid={`person-${p.username}`}>
              <span className="people__who">
                <strong>{p.name}</strong> <span className="muted">{p.username}</span>
                {p.invited && <span className="muted"> · invited</span>}
                {p.disabled && <span className="muted"> · disabled</span>}
              </span>
              <select
                aria-label={`${p.name}'s role`}
                value={p.role}
                disabled={busy || p.id === me}
                onChange={(e) => void act(() => updateUser(p.id, { role: e.target.value as Access }))}
              >
                {ACCESS.map((a) => (
                  <option key={a} value={a}>
                    {a}
                  </option>
                ))}
              </select>
              <button type="button" className="btn btn--ghost btn--sm" disabled={busy || p.id === me} onClick={() => void act(() => updateUser(p.id, { disabled: !p.disabled }))}>
                {p.disabled ? 'Enable' : 'Disable'}
              </button>
              <button type="button" className="btn btn--danger-ghost btn--sm" disabled={busy || p.id === me} onClick={() => void act(() => removeUser(p.id))}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {invite && (
        <p className="notice" role="status" data-testid="people-invite">
          Send {invite.username} this link, valid 7 days and once: <code>{invite.url}</code>
        </p>
      )}
      <form className="dialog__form" onSubmit={add}>
        <h3>Add a person</h3>
        <div className="field">
          <label htmlFor={`${uid}-username`}>Username</label>
          <input id={`${uid}-username`} value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} required maxLength={32} />
        </div>
        <div className="field">
          <label htmlFor={`${uid}-name`}>Name</label>
          <input id={`${uid}-name`} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required maxLength={100} />
        </div>
        <div className="field">
          <label htmlFor={`${uid}-role`}>Role</label>
          <select id={`${uid}-role`} value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Access })}>
            {ACCESS.map((a) => (
              <option key={a} value={a}>
                {a}: {ACCESS_HELP[a]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${uid}-password`}>Password (leave empty to send an invitation)</label>
          <input id={`${uid}-password`} type="password" autoComplete="new-password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} maxLength={256} />
        </div>
        <footer className="dialog__foot">
          <span className="spacer" />
          <button type="submit" className="btn btn--primary" disabled={busy || !form.username || !form.name}>
            Add
          </button>
        </footer>
      </form>
    </Modal>
  );
}
