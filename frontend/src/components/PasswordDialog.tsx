import { useId, useState } from 'react';
import { ApiError, changePassword } from '../lib/api';
import { Modal } from './Modal';

/** A person's own page: change the password, and optionally end every other session. */
export function PasswordDialog({ onClose }: { onClose(): void }) {
  const uid = useId();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [elsewhere, setElsewhere] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const ended = await changePassword(current, next, elsewhere);
      setDone(elsewhere ? `Password changed; ${ended} other session${ended === 1 ? '' : 's'} ended.` : 'Password changed.');
      setCurrent('');
      setNext('');
    } catch (err) {
      if (err instanceof ApiError && err.details.length > 0) setError(err.details.map((d) => `${d.field}: ${d.message}`).join('; '));
      else setError(err instanceof Error ? err.message : 'The password was not changed.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal testId="password-dialog" labelledBy={`${uid}-heading`} onClose={onClose}>
      <form className="dialog__form" onSubmit={submit}>
        <header className="dialog__head">
          <h2 id={`${uid}-heading`}>Change your password</h2>
          <button type="button" className="icon-btn" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        <div className="field">
          <label htmlFor={`${uid}-current`}>Current password</label>
          <input id={`${uid}-current`} type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor={`${uid}-new`}>New password (8 to 256 characters)</label>
          <input id={`${uid}-new`} type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required minLength={8} maxLength={256} />
        </div>
        <label>
          <input type="checkbox" checked={elsewhere} onChange={(e) => setElsewhere(e.target.checked)} /> Sign out everywhere else
        </label>
        {error && (
          <p className="notice notice--error" role="alert">
            {error}
          </p>
        )}
        {done && (
          <p className="notice" role="status">
            {done}
          </p>
        )}
        <footer className="dialog__foot">
          <span className="spacer" />
          <button type="button" className="btn btn--ghost" onClick={onClose}>
            Close
          </button>
          <button type="submit" className="btn btn--primary" disabled={busy || !current || next.length < 8}>
            Change
          </button>
        </footer>
      </form>
    </Modal>
  );
}
