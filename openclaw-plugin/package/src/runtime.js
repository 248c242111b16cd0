// The mission_control WebAssembly component under Node, loaded on the first tool call.
//
// The build bundles this file with jco's JSPI glue and the event-loop-friendly (Fetch-based)
// implementation of WASI 0.2 from @bytecodealliance/preview2-shim into dist/runtime.js. Under
// JSPI (`--async-mode jspi`, Node 24+) every blocking WASI call the component makes
// (`wasi:io/poll`, blocking stream reads) suspends the component and returns to the event
// loop, so a tool call never blocks the Gateway, however slow the server. No worker thread,
// no `Atomics.wait`.
//
// What the component may do: outgoing HTTP to the configured server's origin only (anything
// else fails with `HTTP-request-denied`), nothing else: no environment, arguments, working
// directory or filesystem, and `wasi:cli/exit` throws instead of ending the process.
//
// Each call gets a fresh instance (the compiled core modules are shared): calls can overlap,
// one call's failure cannot leave state behind for the next, and an aborted call is simply
// abandoned after its HTTP request is cancelled.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as cli from '@bytecodealliance/preview2-shim/cli';
import * as clocks from '@bytecodealliance/preview2-shim/clocks';
import * as http from '@bytecodealliance/preview2-shim/http';
import * as io from '@bytecodealliance/preview2-shim/io';
import * as random from '@bytecodealliance/preview2-shim/random';
import { instantiate } from '../build/jspi/mission_control_tool.js';
import { wasiImports } from './wasi-imports.js';

// The core modules jco splits the component into, next to this file in dist/.
const CORE_MODULES = {
  'mission_control_tool.core.wasm': new URL('./mission_control_tool.core.wasm', import.meta.url),
  'mission_control_tool.core2.wasm': new URL('./mission_control_tool.core2.wasm', import.meta.url),
  'mission_control_tool.core3.wasm': new URL('./mission_control_tool.core3.wasm', import.meta.url),
};
const compiled = new Map();

/** Compiles each core module once per process. */
function coreModule(name) {
  let module = compiled.get(name);
  if (!module) {
    const file = CORE_MODULES[name];
    if (!file) {
      throw new Error(`mission_control: unexpected core module ${name}; rebuild the plugin package (npm run build)`);
    }
    module = readFile(file).then(
      (bytes) => WebAssembly.compile(bytes),
      (err) => {
        throw new Error(`mission_control: cannot read ${fileURLToPath(file)}: ${err.message}`);
      },
    );
    module.catch(() => compiled.delete(name));
    compiled.set(name, module);
  }
  return module;
}

/** `{scheme, host, port}` of an http(s) URL, default ports filled in; null if not http(s). */
function originOf(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  const scheme = u.protocol.slice(0, -1);
  const port = u.port ? Number(u.port) : scheme === 'https' ? 443 : 80;
  return { scheme, host: u.hostname.toLowerCase(), port };
}

function requestOrigin(request) {
  const scheme = request.scheme();
  const authority = request.authority();
  if (!authority) return null;
  const name = !scheme ? 'https' : scheme.tag === 'other' ? scheme.val : scheme.tag;
  return originOf(`${name.toLowerCase()}://${authority}`);
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** A pollable that becomes ready after `ns` nanoseconds; its timer stops when it is dropped. */
function sleep(ns) {
  if (ns <= 0n) return io.pollableCreate();
  let timer;
  const fired = new Promise((resolve) => {
    timer = setTimeout(resolve, Math.min(Number((ns + 999_999n) / 1_000_000n), MAX_TIMER_MS));
  });
  const pollable = io.pollableCreate(fired);
  pollable._onDispose(() => clearTimeout(timer));
  return pollable;
}

// The shim's clock, except that a timer the component drops (the deadline of a request that
// has been answered) is cleared instead of holding the event loop until it fires.
const monotonicClock = {
  now: () => clocks.monotonicClock.now(),
  resolution: () => clocks.monotonicClock.resolution(),
  subscribeDuration: (duration) => sleep(duration),
  subscribeInstant: (instant) => sleep(instant - clocks.monotonicClock.now()),
};

const sameOrigin = (a, b) => Boolean(a && b && a.scheme === b.scheme && a.host === b.host && a.port === b.port);

/** The imports of one instance: its settings, an origin-checked HTTP client, nothing else. */
function importsFor(settings, { allowedOrigin, denied, inFlight }) {
  const allowed = originOf(allowedOrigin ?? settings.url);
  const outgoingHandler = {
    handle(request, _options) {
      const target = requestOrigin(request);
      if (!sameOrigin(allowed, target)) {
        denied.push(`${target ? `${target.scheme}://${target.host}:${target.port}` : '?'}${request.pathWithQuery() ?? ''}`);
        throw { tag: 'HTTP-request-denied' };
      }
      // The component enforces its own connect / first-byte / between-bytes deadlines with
      // its timers; the request options are not passed on because this shim would turn them
      // into one overall deadline of min(connect, first byte).
      const future = http.outgoingHandler.handle(request);
      inFlight.add(future);
      return future;
    },
  };
  const timeouts = settings.timeouts ?? {};
  return {
    'mission-control:tool/config': {
      serverUrl: () => settings.url ?? '',
      authToken: () => settings.token || undefined,
      requestTimeouts: () => ({
        connectMs: timeouts.connectMs,
        firstByteMs: timeouts.firstByteMs,
        betweenBytesMs: timeouts.betweenBytesMs,
      }),
    },
    'mission-control:tool/types': {},
    ...wasiImports({ cli, clocks: { monotonicClock }, http: { types: http.types, outgoingHandler }, io, random }),
  };
}

/** Throws a clear error where JavaScript-Promise Integration is missing (Node < 24). */
function assertJspi() {
  if (typeof WebAssembly.Suspending !== 'function' || typeof WebAssembly.promising !== 'function') {
    throw new Error(`mission_control needs Node 24 or later (WebAssembly JSPI); this is Node ${process.versions.node}`);
  }
}

/**
 * Instantiates the component for one call and returns its `actions` export plus the requests
 * the origin rule refused. `settings` is `{url, token, timeouts}`.
 */
async function instance(settings, options) {
  assertJspi();
  const denied = [];
  const inFlight = new Set();
  const root = await instantiate(coreModule, importsFor(settings, { ...options, denied, inFlight }));
  const actions = root.actions ?? root['mission-control:tool/actions@0.1.0'];
  return { actions, denied, inFlight };
}

/** Cancels the HTTP requests of an abandoned call that have not been answered yet. */
function cancel(inFlight) {
  for (const future of inFlight) {
    try {
      future[Symbol.dispose]?.();
    } catch {
      // Already settled or dropped.
    }
  }
  inFlight.clear();
}

/**
 * Runs one call as the model sent it (JSON text). Resolves to the component's JSON answer;
 * rejects with the component's `tool-error` (an Error whose `payload` is the variant), or with
 * `signal.reason` as soon as `signal` aborts (the call's unanswered request is cancelled).
 * `options.allowedOrigin` overrides the origin the component may reach (tests).
 */
export async function execute(paramsJson, settings, { signal, allowedOrigin, onDenied } = {}) {
  signal?.throwIfAborted();
  const { actions, denied, inFlight } = await instance(settings, { allowedOrigin });
  signal?.throwIfAborted();
  const call = actions.execute(paramsJson);
  try {
    if (!signal) return await call;
    let onAbort;
    const aborted = new Promise((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([call, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) {
        cancel(inFlight);
        call.catch(() => {}); // the abandoned instance ends on its own; nobody awaits it
      }
    }
  } finally {
    if (denied.length) onDenied?.(denied);
  }
}

/** The component's own description: `{name, description, parametersSchema}` (JSON text). */
export async function describe() {
  const { actions } = await instance({ url: 'http://127.0.0.1:9' }, {});
  return actions.describe();
}
