import type { Agent, Task } from '../lib/types';
import { changedBy } from '../lib/present';
import { TaskSummary } from './TaskSummary';

interface Props {
  /** The task as the server has it now (from the 412 answer). */
  current: Task;
  agents: Record<string, Agent>;
  me: string | null | undefined;
  /** What was not saved: "Your move to Done", "Your changes". */
  lost: string;
  children?: React.ReactNode;
}

/**
 * Someone changed the task between the moment this person saw it and their write: the server
 * refused the write (412) instead of overwriting. Says who, and shows the task as it is now.
 */
export function ConflictNotice({ current, agents, me, lost, children }: Props) {
  const who = changedBy(current.updatedBy, agents, me);
  return (
    <div className="conflict" role="alert" data-testid="conflict-notice">
      <p className="conflict__head">
        <strong>
          Changed meanwhile by <span data-testid="conflict-by">{who}</span>.
        </strong>{' '}
        {lost} did not reach the task, so nothing was overwritten. This is the task now:
      </p>
      <TaskSummary task={current} agents={agents} />
      {children && <div className="conflict__actions">{children}</div>}
    </div>
  );
}
