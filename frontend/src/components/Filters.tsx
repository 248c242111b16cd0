import { useId, useState } from 'react';
import type { Agent } from '../lib/types';
import { PRIORITIES, PRIORITY_LABELS } from '../lib/types';
import { NONE, NO_FILTER, isFiltering, type TaskFilter } from '../lib/board';

interface Props {
  filter: TaskFilter;
  agents: Agent[];
  tags: string[];
  onChange(filter: TaskFilter): void;
  /** Phone width: the three selects fold behind a "Filters" button, search stays. */
  compact?: boolean;
}

export function Filters({ filter, agents, tags, onChange, compact = false }: Props) {
  const set = (patch: Partial<TaskFilter>) => onChange({ ...filter, ...patch });
  const [open, setOpen] = useState(false);
  const moreId = useId();
  const active = [filter.agent, filter.priority, filter.tag].filter((v) => v !== '').length;
  return (
    <div className="filters" role="search" aria-label="Filter tasks">
      <div className="search">
        <svg aria-hidden="true" viewBox="0 0 20 20" width="16" height="16">
          <path fill="currentColor" d="M8.5 3a5.5 5.5 0 0 1 4.38 8.83l3.65 3.64-1.06 1.06-3.64-3.65A5.5 5.5 0 1 1 8.5 3Zm0 1.5a4 4 0 1 0 0 8 4 4 0 0 0 0-8Z" />
        </svg>
        <input type="search" placeholder="Search titles" aria-label="Search titles" value={filter.search} onChange={(e) => set({ search: e.target.value })} data-testid="filter-search" />
      </div>
      {compact && (
        <button type="button" className="btn btn--ghost btn--sm" aria-expanded={open} aria-controls={moreId} onClick={() => setOpen((o) => !o)} data-testid="filter-more">
          Filters{active > 0 ? ` (${active})` : ''}
        </button>
      )}
      <div className="filters__more" id={moreId} hidden={compact && !open}>
        <select aria-label="Filter by agent" value={filter.agent} onChange={(e) => set({ agent: e.target.value })} data-testid="filter-agent">
          <option value="">All agents</option>
          <option value={NONE}>Unassigned</option>
          {agents.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
            </option>
          ))}
        </select>
        <select aria-label="Filter by priority" value={filter.priority} onChange={(e) => set({ priority: e.target.value })} data-testid="filter-priority">
          <option value="">Any priority</option>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {PRIORITY_LABELS[p]}
            </option>
          ))}
          <option value={NONE}>No priority</option>
        </select>
        <select aria-label="Filter by tag" value={filter.tag} onChange={(e) => set({ tag: e.target.value })} data-testid="filter-tag">
          <option value="">Any tag</option>
          {filter.tag && !tags.includes(filter.tag) && <option value={filter.tag}>{filter.tag}</option>}
          {tags.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </div>
      {isFiltering(filter) && (
        <button type="button" className="btn btn--ghost btn--sm" onClick={() => onChange(NO_FILTER)} data-testid="filter-clear">
          Clear
        </button>
      )}
    </div>
  );
}
