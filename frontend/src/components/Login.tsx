import { useState } from 'react';
import { ApiError, login, storeSession } from '../lib/api';
import type { User } from '../lib/types';
import { Logo } from './Logo';

export function Login({ onSignedIn, notice }: { onSignedIn(token: string, user: User): void; notice?: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { token, user } = await login(username, password);
      storeSession(token, user);
      onSignedIn(token, user);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.status === 401) setError('Wrong username or password.');
      else if (err instanceof ApiError && err.status === 429) setError('Too many attempts. Wait a minute and try again.');
      else if (err instanceof ApiError && err.details.length > 0) setError(err.details.map((d) => `${d.field}: ${d.message}`).join('; '));
      else setError(err instanceof Error ? err.message : 'Sign-in failed.');
    }
  }

  return (
    <main className="login">
      <form className="login__card" onSubmit={submit} data-testid="login-form">
        <div className="login__brand">
          <Logo size={36} />
          <div>
            <h1>Mission Control</h1>
            <p className="muted">Sign in to your agents' task board</p>
          </div>
        </div>
        {notice && <p className="notice">{notice}</p>}
        <div className="field">
          <label htmlFor="login-username">Username</label>
          <input id="login-username" name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} autoFocus required data-testid="login-username" />
        </div>
        <div className="field">
          <label htmlFor="login-password">Password</label>
          <input id="login-password" name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required data-testid="login-password" />
        </div>
        {error && (
          <p className="notice notice--error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button className="btn btn--primary btn--block" type="submit" disabled={busy || !username || !password} data-testid="login-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
