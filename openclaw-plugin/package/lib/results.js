// What a call gives back to OpenClaw.
//
// - Success: `details` is the component's answer under its own key (`task`, `tasks`, `agents`,
//   `agent`, `events`, `deleted`) plus `ok: true`. OpenClaw grades a call from `details` and
//   reads a top-level `status` such as "blocked" as a failure, so task data never sits at the
//   top level.
// - Bad arguments (and unknown ids, which the model passed): a thrown `ToolInputError`. OpenClaw
//   recognises that name as an input error (openclaw 2026.9.6 `resolveToolInputErrorStatus`):
//   the Gateway's `POST /tools/invoke` answers 400 with the message, an agent turn shows it to
//   the model. The message names the field as the model spells it.
// - Anything else (unreachable, timed out, token refused, not allowed, a stale version, HTTP
//   5xx): a result with `ok: false` and `error: {code, message}`, the message saying what to do
//   about it; a deadline adds `timedOut: true` and `timeoutMs`, OpenClaw's contract for a
//   tool-owned timeout; a stale version (`task-changed`) adds `currentVersion`, the one to retry
//   with.

const TIMED_OUT = 'timed out'; // how the component starts every deadline message

export const DEFAULT_TIMEOUTS_MS = { connectMs: 10_000, firstByteMs: 30_000, betweenBytesMs: 30_000 };

/** An error in the call's arguments, reported to the caller as such. */
export class ToolInputError extends Error {
  constructor(message, field) {
    super(message);
    this.name = 'ToolInputError';
    this.status = 400;
    if (field) this.field = field;
  }
}

function result(details, text) {
  return { content: [{ type: 'text', text: text ?? JSON.stringify(details, null, 2) }], details };
}

/** The component's JSON answer as an OpenClaw tool result. */
export function success(answerJson) {
  return result({ ok: true, ...JSON.parse(answerJson) });
}

function failure(code, message, extra = {}) {
  return result({ ok: false, ...extra, error: { code, message } }, message);
}

/**
 * Maps the component's `tool-error` (thrown by jco as an Error with `payload`) onto a thrown
 * ToolInputError or a failed result; rethrows anything else (a bug, or a missing build).
 */
export function fromToolError(err, timeouts = {}) {
  const payload = err?.payload;
  if (!payload || typeof payload.tag !== 'string') throw err;
  const { tag, val } = payload;
  switch (tag) {
    case 'invalid-arguments':
      throw new ToolInputError(`Invalid argument${val.field ? ` "${val.field}"` : ''}: ${val.message}`, val.field || undefined);
    case 'not-found':
      throw new ToolInputError(`Not found: ${val}`);
    case 'unauthorized':
      return failure('unauthorized',
        `Mission Control refused the token (${val}). Check the plugin's token (plugins.entries.mission-control.config.token) or MISSION_CONTROL_TOKEN.`);
    case 'forbidden':
      return failure('forbidden',
        `Mission Control does not allow this agent to do that: ${val}. The token is valid; a new token will not change this, so do something else or ask the board's operator.`);
    case 'task-changed': {
      const currentVersion = val.currentVersion === undefined ? undefined : Number(val.currentVersion);
      const retry = currentVersion === undefined ? 'its current version' : `version ${currentVersion}`;
      return failure('task-changed',
        `The task changed since the version you gave, so nothing was written (${val.message}). Read it again (get_task) and, if your change still makes sense, retry with ${retry}.`,
        currentVersion === undefined ? {} : { currentVersion });
    }
    case 'server-unreachable': {
      if (!String(val).startsWith(TIMED_OUT)) return failure('server-unreachable', `Mission Control server unreachable: ${val}`);
      const limits = { ...DEFAULT_TIMEOUTS_MS, ...timeouts };
      const timeoutMs = /stopped sending/.test(val) ? limits.betweenBytesMs : limits.connectMs + limits.firstByteMs;
      return failure('timed-out', `T${val.slice(1)}`, { timedOut: true, timeoutMs });
    }
    case 'server-error':
      return failure('server-error', `Mission Control server error (HTTP ${val.status} ${val.code}): ${val.message}`,
        { httpStatus: val.status });
    default:
      return failure(tag, `Mission Control error (${tag}): ${JSON.stringify(val)}`);
  }
}
