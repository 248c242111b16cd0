import { useEffect, useState } from 'react';
import { ApiError, login, storeSession } from '../lib/api';
import { formatWait } from '../lib/present';
import type { User } from '../lib/types';
import { Logo } from './Logo';

/** How long to wait after a 429 that came without a usable `Retry-After`: the limit is per minute. */
const DEFAULT_WAIT_S = 60;

export function Login({ onSignedIn, notice }: { onSignedIn(token: string, user: User): void; notice?: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** After a 429: when the server lets us try again (epoch ms), and how long it asked for. */
  const [retry, setRetry] = useState<{ at: number; seconds: number } | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [canRetry, setCanRetry] = useState(false);

  useEffect(() => {
    if (!retry) return;
    const tick = () => {
      const t = Date.now();
      setNow(t);
      if (t >= retry.at) {
        setRetry(null);
        setCanRetry(true);
      }
    };
    tick();
    const id = setInterval(tick, 250);
    return () => clearInterval(id);
  }, [retry]);

  const waitS = retry ? Math.max(1, Math.ceil((retry.at - now) / 1000)) : 0;

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (retry) return;
    setBusy(true);
    setError(null);
    setCanRetry(false);
    try {
      const answer = await login(username, password);
      // Admins manage agents and people; a server from before accounts names no access: its
      // one sign-in was the operator's.
      const user = { ...answer.user, operator: (answer.user.access ?? 'admin') === 'admin' };
      storeSession(answer.token, user);
      onSignedIn(answer.token, user);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.status === 429) {
        const seconds = err.retryAfter ?? DEFAULT_WAIT_S;
        setNow(Date.now());
        setRetry({ at: Date.now() + seconds * 1000, seconds });
      } else if (err instanceof ApiError && err.status === 401) setError('Wrong username or password.');
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
          <input
            id="login-password"
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            aria-describedby="login-help"
            data-testid="login-password"
          />
        </div>
        {error && (
          <p className="notice notice--error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        {retry && (
          <p className="notice notice--warn" role="alert" data-testid="login-rate-limited">
            Too many sign-in attempts. Wait {formatWait(retry.seconds)} before trying again.
          </p>
        )}
        {canRetry && (
          <p className="notice" role="status" data-testid="login-can-retry">
            You can try again now.
          </p>
        )}
        <button className="btn btn--primary btn--block" type="submit" disabled={busy || retry !== null || !username || !password} data-testid="login-submit">
          {retry ? `Try again in ${formatWait(waitS)}` : busy ? 'Signing in…' : 'Sign in'}
        </button>
        <div className="login__help" id="login-help" data-testid="login-help">
          <p>
            <strong>First sign-in:</strong> user <code>admin</code> (or your <code>ADMIN_USERNAME</code>) with the password the server printed once in
            its terminal when it first started (or your <code>ADMIN_PASSWORD</code>).
          </p>
          <p>
            <strong>Lost it?</strong> Run <code>mission-control-server reset-admin-password</code> where the server runs.
          </p>
          <p>
            <strong>Added by an admin?</strong> Sign in with your username and the password you chose from your invitation (or were given).
          </p>
        </div>
      </form>
    </main>
  );
}
