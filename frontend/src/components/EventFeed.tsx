import type { Agent, McEvent, Task } from '../lib/types';
import { formatAge } from '../lib/board';
import { avatarColor } from '../lib/colors';

interface Props {
  events: McEvent[];
  tasks: Record<string, Task>;
  agents: Record<string, Agent>;
  now: number;
  loaded: boolean;
}

const ICON: Record<string, string> = {
  task_created: '+',
  task_updated: '↻',
  task_deleted: '−',
  agent_status_changed: '●',
  agent_updated: '●',
  agent_removed: '−',
  comment_created: '✎',
};

export function EventFeed({ events, tasks, agents, now, loaded }: Props) {
  return (
    <section className="panel panel--feed" aria-labelledby="feed-title" data-testid="event-feed">
      <header className="panel__head">
        <h2 id="feed-title">Activity</h2>
      </header>
      {!loaded ? (
        <ul className="feed">
          {[0, 1, 2, 3].map((i) => (
            <li key={i} className="skeleton-row" aria-hidden="true" />
          ))}
        </ul>
      ) : events.length === 0 ? (
        <p className="empty">No activity yet. Changes made here or by agents show up as they happen.</p>
      ) : (
        <ol className="feed" aria-live="off">
          {events.map((ev) => {
            const agent = ev.agentId ? agents[ev.agentId] : undefined;
            const task = ev.taskId ? tasks[ev.taskId] : undefined;
            const body = (
              <>
                <span className={`feed__icon feed__icon--${ev.type}`} aria-hidden="true" style={agent ? { color: avatarColor(agent.id, agent.avatarColor) } : undefined}>
                  {ICON[ev.type] ?? '•'}
                </span>
                <span className="feed__msg clamp" title={ev.message} data-testid="event-message">
                  {ev.message}
                </span>
                <time className="feed__time" dateTime={new Date(ev.timestamp).toISOString()} title={new Date(ev.timestamp).toLocaleString()}>
                  {formatAge(ev.timestamp, now)}
                </time>
              </>
            );
            return (
              <li key={ev.id} data-testid="event-item" data-task-id={ev.taskId ?? undefined}>
                {task ? (
                  <a className="feed__line feed__line--link" href={`#task/${encodeURIComponent(task.id)}`} aria-label={`${ev.message}. Open task`}>
                    {body}
                  </a>
                ) : (
                  <div className={`feed__line${ev.taskId ? ' feed__line--gone' : ''}`} title={ev.taskId ? 'This task was deleted' : undefined}>
                    {body}
                  </div>
                )}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
