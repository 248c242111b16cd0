import type { Agent } from '../lib/types';
import { presenceLabel } from '../lib/present';
import { Avatar } from './Avatar';

const ORDER = { online: 0, busy: 1, offline: 2 } as const;
const STATUS_WORDS = { online: 'online', busy: 'busy', offline: 'offline' } as const;

interface Props {
  agents: Agent[];
  now: number;
  loaded: boolean;
  onPick(id: string): void;
  /** The operator manages agents (tokens, removal); undefined for everyone else. */
  onManage?(id: string): void;
}

export function AgentsPanel({ agents, now, loaded, onPick, onManage }: Props) {
  const sorted = [...agents].sort((a, b) => (ORDER[a.status] ?? 3) - (ORDER[b.status] ?? 3) || a.name.localeCompare(b.name));
  const active = agents.filter((a) => a.status !== 'offline').length;
  return (
    <section className="panel" aria-labelledby="agents-title" data-testid="agents-panel">
      <header className="panel__head">
        <h2 id="agents-title">Agents</h2>
        <span className="panel__meta">{loaded ? `${active} of ${agents.length} active` : ''}</span>
      </header>
      {!loaded ? (
        <ul className="agents">
          {[0, 1, 2].map((i) => (
            <li key={i} className="agent skeleton-row" aria-hidden="true" />
          ))}
        </ul>
      ) : sorted.length === 0 ? (
        <p className="empty">No agents registered yet. Agents appear here once they are added through the API.</p>
      ) : (
        <ul className="agents">
          {sorted.map((a) => {
            const presence = presenceLabel(a, now);
            return (
              <li key={a.id} className={`agent${onManage ? ' agent--managed' : ''}`} data-testid="agent-item" data-agent-id={a.id} data-status={a.status}>
                <button type="button" className="agent__btn" onClick={() => onPick(a.id)} data-testid="agent-pick" title={`Show ${a.name}'s tasks. ${presence.title}`}>
                  <span className="agent__avatar">
                    <Avatar id={a.id} name={a.name} color={a.avatarColor} size={32} />
                    <span className={`status-dot status-dot--${a.status}`} aria-hidden="true" />
                  </span>
                  <span className="agent__text">
                    <span className="agent__name">{a.name}</span>
                    <span className="agent__sub">
                      {a.role} · <span data-testid="agent-status">{STATUS_WORDS[a.status] ?? a.status}</span>
                    </span>
                    {presence.text && (
                      <span className="agent__seen" title={presence.title} data-testid="agent-seen">
                        {presence.text}
                      </span>
                    )}
                  </span>
                </button>
                {onManage && (
                  <button type="button" className="icon-btn agent__manage" onClick={() => onManage(a.id)} aria-label={`Manage ${a.name}: tokens and removal`} title="Tokens and removal" data-testid="agent-manage">
                    <svg aria-hidden="true" viewBox="0 0 16 16" width="16" height="16">
                      <circle cx="3" cy="8" r="1.5" fill="currentColor" />
                      <circle cx="8" cy="8" r="1.5" fill="currentColor" />
                      <circle cx="13" cy="8" r="1.5" fill="currentColor" />
                    </svg>
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
