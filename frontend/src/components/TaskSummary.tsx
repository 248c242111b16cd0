import type { Agent, Task } from '../lib/types';
import { PRIORITY_LABELS, STATUS_LABELS } from '../lib/types';
import { agentName } from '../lib/present';

/** A task in a few lines, as it is on the server now: what a conflict notice shows. */
export function TaskSummary({ task, agents }: { task: Task; agents: Record<string, Agent> }) {
  return (
    <div className="summary" data-testid="current-card" data-task-id={task.id} data-version={task.version}>
      <p className="summary__title" data-testid="current-title">
        {task.title}
      </p>
      <dl className="summary__fields">
        <div>
          <dt>Status</dt>
          <dd data-testid="current-status">{STATUS_LABELS[task.status] ?? task.status}</dd>
        </div>
        <div>
          <dt>Assignee</dt>
          <dd>{task.assignedAgent ? agentName(task.assignedAgent, agents) : 'Unassigned'}</dd>
        </div>
        <div>
          <dt>Priority</dt>
          <dd>{task.priority ? PRIORITY_LABELS[task.priority] : 'None'}</dd>
        </div>
        {task.tags.length > 0 && (
          <div>
            <dt>Tags</dt>
            <dd>{task.tags.join(', ')}</dd>
          </div>
        )}
      </dl>
      {task.description && <p className="summary__desc clamp">{task.description}</p>}
    </div>
  );
}
