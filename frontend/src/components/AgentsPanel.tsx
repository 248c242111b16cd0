import type { Agent } from '../lib/types';
import { formatAge } from '../lib/board';
import { Avatar } from './Avatar';

const ORDER = { online: 0, busy: 1, offline: 2 } as const;

export function AgentsPanel({ agents, now, loaded, onPick }: { agents: Agent[]; now: number; loaded: boolean; onPick(id: string): void }) {
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
          {sorted.map((a) => (
            <li key={a.id} className="agent" data-testid="agent-item" data-agent-id={a.id} data-status={a.status}>
              <button type="button" className="agent__btn" onClick={() => onPick(a.id)} title={`Show ${a.name}'s tasks`}>
                <span className="agent__avatar">
                  <Avatar id={a.id} name={a.name} color={a.avatarColor} size={32} />
                  <span className={`status-dot status-dot--${a.status}`} aria-hidden="true" />
                </span>
                <span className="agent__text">
                  <span className="agent__name">{a.name}</span>
                  <span className="agent__sub">
                    {a.role} · <span data-testid="agent-status">{a.status}</span>
                  </span>
                </span>
                <span className="agent__seen" title={new Date(a.lastActive).toLocaleString()}>
                  {formatAge(a.lastActive, now) === 'now' ? 'active now' : `${formatAge(a.lastActive, now)} ago`}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
