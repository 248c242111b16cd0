import { useCallback, useEffect, useId, useState } from 'react';
import type { Agent, TokenInfo } from '../lib/types';
import { getToken, getTokens, removeAgent, revokeAllTokens, revokeToken, tokenIdOf } from '../lib/api';
import { formatAgo, presenceLabel } from '../lib/present';
import { Avatar } from './Avatar';
import { Modal } from './Modal';

interface Props {
  agentId: string;
  /** The agent as the board knows it now; undefined once removed. */
  agent: Agent | undefined;
  loaded: boolean;
  /** The operator's own agent id: it cannot be removed. */
  me: string | null;
  /** How many tasks are assigned to the agent (they become unassigned on removal). */
  taskCount: number;
  now: number;
  onClose(): void;
  onRemoved(id: string): void;
}

type Confirm = { kind: 'revoke'; token: TokenInfo } | { kind: 'revoke-all' } | { kind: 'remove' } | null;

const day = (t: number) => new Date(t).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

/**
 * The operator's control over one agent: its tokens (when made, when they expire, when last
 * used; never the tokens themselves), revoking one or all of them (its live connections end at
 * once), and removing the agent.
 */
export function AgentDialog({ agentId, agent, loaded, me, taskCount, now, onClose, onRemoved }: Props) {
  const uid = useId();
  const [tokens, setTokens] = useState<TokenInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState<Confirm>(null);
  const [thisSession, setThisSession] = useState<string | null>(null);
  const isMe = agentId === me;

  useEffect(() => {
    const token = getToken();
    if (token) void tokenIdOf(token).then(setThisSession);
  }, []);

  const load = useCallback(async () => {
    setError(null);
    try {
      setTokens(await getTokens(agentId));
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not list the tokens.');
    }
  }, [agentId]);

  useEffect(() => {
    void load();
  }, [load]);

  async function act(run: () => Promise<string>) {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await run());
      setConfirm(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'That did not work.');
    } finally {
      setBusy(false);
    }
  }

  const revokeOne = (t: TokenInfo) =>
    act(async () => {
      await revokeToken(agentId, t.id);
      setTokens((list) => list?.filter((x) => x.id !== t.id) ?? null);
      return 'Token revoked: connections made with it have ended.';
    });
  const revokeAll = () =>
    act(async () => {
      const n = await revokeAllTokens(agentId);
      setTokens([]);
      return `${n} ${n === 1 ? 'token' : 'tokens'} revoked: ${agent?.name ?? agentId} is signed out everywhere.`;
    });
  const remove = () =>
    act(async () => {
      await removeAgent(agentId);
      onRemoved(agentId);
      onClose();
      return '';
    });

  const name = agent?.name ?? agentId;
  const presence = agent ? presenceLabel(agent, now) : null;
  const gone = loaded && !agent;

  return (
    <Modal testId="agent-dialog" labelledBy={`${uid}-heading`} onClose={onClose}>
      <div className="dialog__form">
        <header className="dialog__head">
          {agent && (
            <span className="agent__avatar dialog__avatar">
              <Avatar id={agent.id} name={agent.name} color={agent.avatarColor} size={32} />
              <span className={`status-dot status-dot--${agent.status}`} aria-hidden="true" />
            </span>
          )}
          <h2 id={`${uid}-heading`}>{name}</h2>
          <button type="button" className="icon-btn" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        {agent && (
          <p className="dialog__meta muted">
            {agent.role} · {agent.status}
            {presence?.text ? ` · ${presence.text}` : ''} · {agent.id}
          </p>
        )}
        {gone && (
          <p className="notice notice--warn" data-testid="agent-gone">
            This agent no longer exists: it was removed.
          </p>
        )}

        <section aria-labelledby={`${uid}-tokens`} className="tokens">
          <h3 id={`${uid}-tokens`} className="notes__title">
            Tokens
          </h3>
          <p className="field__hint">What {isMe ? 'your sessions and tokens' : `${name}'s tokens`} are. A token itself is never shown again after it is made.</p>
          {tokens === null && !error && <p className="muted">Loading tokens…</p>}
          {tokens?.length === 0 && (
            <p className="muted" data-testid="tokens-empty">
              No tokens: {isMe ? 'no session is signed in.' : `${name} cannot connect until given a new one.`}
            </p>
          )}
          {tokens && tokens.length > 0 && (
            <table className="tokens__table" data-testid="tokens">
              <thead>
                <tr>
                  <th scope="col">Token</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {tokens.map((t) => (
                  <tr key={t.id} data-testid="token-row" data-token-id={t.id}>
                    <td>
                      <code title={t.id}>{t.id.slice(0, 8)}</code>
                      {t.id === thisSession && (
                        <span className="badge" data-testid="token-this-session">
                          this browser
                        </span>
                      )}
                    </td>
                    <td title={new Date(t.createdAt).toLocaleString()}>{day(t.createdAt)}</td>
                    <td title={new Date(t.expiresAt).toLocaleString()}>{day(t.expiresAt)}</td>
                    <td title={t.lastUsedAt ? new Date(t.lastUsedAt).toLocaleString() : undefined}>
                      {t.lastUsedAt ? `${formatAgo(t.lastUsedAt, now)} ago` : 'never'}
                    </td>
                    <td>
                      <button type="button" className="btn btn--danger-ghost btn--sm" onClick={() => setConfirm({ kind: 'revoke', token: t })} disabled={busy} data-testid="token-revoke">
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <div className="tokens__actions">
            {tokens && tokens.length > 0 && (
              <button type="button" className="btn btn--danger-ghost btn--sm" onClick={() => setConfirm({ kind: 'revoke-all' })} disabled={busy} data-testid="tokens-revoke-all">
                Revoke all tokens…
              </button>
            )}
            <button type="button" className="btn btn--ghost btn--sm" onClick={() => void load()} disabled={busy}>
              Refresh
            </button>
          </div>
          {confirm?.kind === 'revoke' && (
            <p className="confirm notice notice--warn" data-testid="confirm-box">
              Revoke token {confirm.token.id.slice(0, 8)}?{' '}
              {confirm.token.id === thisSession ? 'It is the one this browser uses: you will be signed out here.' : 'Whatever uses it is signed out at once.'}{' '}
              <button type="button" className="btn btn--danger btn--sm" onClick={() => void revokeOne(confirm.token)} disabled={busy} data-testid="confirm-revoke">
                Revoke
              </button>
              <button type="button" className="btn btn--ghost btn--sm" onClick={() => setConfirm(null)} disabled={busy}>
                Keep
              </button>
            </p>
          )}
          {confirm?.kind === 'revoke-all' && (
            <p className="confirm notice notice--warn" data-testid="confirm-box">
              Revoke all of {isMe ? 'your' : `${name}'s`} tokens? {isMe ? 'You will be signed out here too.' : `${name} is signed out everywhere until given a new token.`}{' '}
              <button type="button" className="btn btn--danger btn--sm" onClick={() => void revokeAll()} disabled={busy} data-testid="confirm-revoke-all">
                Revoke all
              </button>
              <button type="button" className="btn btn--ghost btn--sm" onClick={() => setConfirm(null)} disabled={busy}>
                Keep
              </button>
            </p>
          )}
        </section>

        {done && (
          <p className="notice" role="status" data-testid="agent-done">
            {done}
          </p>
        )}
        {error && (
          <p className="notice notice--error" role="alert" data-testid="agent-error">
            {error}
          </p>
        )}

        {confirm?.kind === 'remove' && (
          <p className="confirm notice notice--warn" data-testid="confirm-box">
            Remove {name}? Its tokens are revoked and its live connections end
            {taskCount > 0 ? `; its ${taskCount} ${taskCount === 1 ? 'task becomes' : 'tasks become'} unassigned` : ''}. This cannot be undone.{' '}
            <button type="button" className="btn btn--danger btn--sm" onClick={() => void remove()} disabled={busy} data-testid="confirm-remove">
              Remove {name}
            </button>
            <button type="button" className="btn btn--ghost btn--sm" onClick={() => setConfirm(null)} disabled={busy}>
              Keep
            </button>
          </p>
        )}

        <footer className="dialog__foot">
          {!isMe && agent && (
            <button type="button" className="btn btn--danger-ghost" onClick={() => setConfirm({ kind: 'remove' })} disabled={busy} data-testid="agent-remove">
              Remove agent…
            </button>
          )}
          <span className="spacer" />
          <button type="button" className="btn btn--primary" onClick={onClose}>
            Done
          </button>
        </footer>
      </div>
    </Modal>
  );
}
