import { useState } from 'react';
import { ApiError, acceptInvite, storeSession } from '../lib/api';
import type { User } from '../lib/types';
import { Logo } from './Logo';

/**
 * Where an invited person chooses their password: the invitation's token is in the address
 * after `#` (it never reaches a server's log), used once, valid 7 days.
 */
export function InvitePage({ onSignedIn }: { onSignedIn(token: string, user: User): void }) {
  const [token] = useState(() => location.hash.replace(/^#/, ''));
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await acceptInvite(token, password);
      const user = { ...answer.user, operator: answer.user.access === 'admin' };
      storeSession(answer.token, user);
      history.replaceState(null, '', '/');
      onSignedIn(answer.token, user);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.details.length > 0) setError(err.details.map((d) => `${d.field}: ${d.message}`).join('; '));
      else setError(err instanceof Error ? err.message : 'The invitation did not work.');
    }
  }

  return (
    <main className="login">
      <form className="login__card" onSubmit={submit} data-testid="invite-form">
        <div className="login__brand">
          <Logo size={36} />
          <div>
            <h1>Mission Control</h1>
            <p className="muted">Choose your password to join the board</p>
          </div>
        </div>
        {!token && <p className="notice notice--error">This link has no invitation in it: ask for a new one.</p>}
        <div className="field">
          <label htmlFor="invite-password">Password (8 to 256 characters)</label>
          <input id="invite-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} required minLength={8} maxLength={256} autoFocus />
        </div>
        {error && (
          <p className="notice notice--error" role="alert">
            {error}
          </p>
        )}
        <button className="btn btn--primary btn--block" type="submit" disabled={busy || !token || password.length < 8}>
          {busy ? 'Joining…' : 'Set password and sign in'}
        </button>
      </form>
    </main>
  );
}
