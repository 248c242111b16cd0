import { useClock } from '../lib/clock';
import { formatCountdown } from '../lib/present';

/**
 * The time left on a claim, counting down: every second in the last hour, every half minute
 * before. Its own clock, so only this line re-renders as it counts.
 */
export function LeaseCountdown({ expiresAt, holder, compact = false }: { expiresAt: number; holder: string; compact?: boolean }) {
  const now = useClock(expiresAt - Date.now() > 3_600_000 ? 30_000 : 1000);
  const left = expiresAt - now;
  const ended = left <= 0;
  const soon = !ended && left < 60_000;
  const until = new Date(expiresAt).toLocaleTimeString();
  const text = ended ? 'claim ending…' : `${formatCountdown(left)} left`;
  const title = ended
    ? `${holder}'s claim has run out: the task goes back to To do unless ${holder} renews it`
    : `Claimed by ${holder}; the lease ends at ${until} unless ${holder} renews it (heartbeats and work renew it)`;
  return (
    <span className={`lease${soon ? ' lease--soon' : ''}${ended ? ' lease--ended' : ''}`} title={title} data-testid="lease" data-expires-at={expiresAt}>
      <svg aria-hidden="true" viewBox="0 0 16 16" width="12" height="12">
        <circle cx="8" cy="9" r="6" fill="none" stroke="currentColor" strokeWidth="1.6" />
        <path d="M8 5.5V9l2.2 1.6M6.5 1.5h3" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />
      </svg>
      <span className="sr-only">{compact ? `Claimed by ${holder}, ` : 'Lease: '}</span>
      <span data-testid="lease-left">{text}</span>
    </span>
  );
}
