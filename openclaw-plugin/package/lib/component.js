// Loads the mission_control WebAssembly component (transpiled by jco into ../component/) and
// gives it exactly what it needs: the server URL and token through its `config` import, and
// outgoing HTTP to that server's origin only. No environment, arguments or filesystem.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cli, clocks, http, io, random } from '@bytecodealliance/preview2-shim';
import { instantiate } from '../component/mission_control_tool.js';

// The core modules jco splits the component into, named statically so that tools which copy
// a plugin's files by following its references (OpenClaw's source capture) find them.
const CORE_MODULES = {
  'mission_control_tool.core.wasm': new URL('../component/mission_control_tool.core.wasm', import.meta.url),
  'mission_control_tool.core2.wasm': new URL('../component/mission_control_tool.core2.wasm', import.meta.url),
  'mission_control_tool.core3.wasm': new URL('../component/mission_control_tool.core3.wasm', import.meta.url),
};
const modules = new Map();

/** Compiles each core module of the component once per process. */
function getCoreModule(name) {
  let module = modules.get(name);
  if (!module) {
    const file = CORE_MODULES[name];
    if (!file) throw new Error(`mission_control: unexpected core module ${name}; rebuild the plugin package (npm run build)`);
    let bytes;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new Error(
        `mission_control: ${fileURLToPath(file)} is missing; build the plugin package first (npm run build): ${err.message}`,
      );
    }
    module = new WebAssembly.Module(bytes);
    modules.set(name, module);
  }
  return module;
}

/** `{scheme, host, port}` of an http(s) URL, default ports filled in; null if not http(s). */
export function originOf(url) {
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

/**
 * Instantiates the component (synchronously). `settings()` is called on every request and returns
 * `{url, token}`; only `url`'s origin is reachable (or `allowedOrigin`'s, when given).
 * Returns `{describe(), execute(paramsJson), deniedRequests}`; `execute` throws the
 * component's `tool-error` as an Error whose `payload` is the variant.
 */
export function loadComponent(settings, { allowedOrigin } = {}) {
  const deniedRequests = [];

  const outgoingHandler = {
    handle(request, options) {
      const { url } = settings();
      const allowed = originOf(allowedOrigin ?? url);
      const target = requestOrigin(request);
      const same = allowed && target
        && allowed.scheme === target.scheme && allowed.host === target.host && allowed.port === target.port;
      if (!same) {
        deniedRequests.push(`${target ? `${target.scheme}://${target.host}:${target.port}` : '?'}${request.pathWithQuery() ?? ''}`);
        throw { tag: 'HTTP-request-denied' };
      }
      return http.outgoingHandler.handle(request, options);
    },
  };

  const imports = {
    'mission-control:tool/config': {
      serverUrl: () => settings().url ?? '',
      authToken: () => settings().token || undefined,
    },
    'mission-control:tool/types': {},
    // The component gets no environment variables, arguments or working directory.
    'wasi:cli/environment': {
      getEnvironment: () => [],
      getArguments: () => [],
      initialCwd: () => undefined,
    },
    // Never let the component end the host process.
    'wasi:cli/exit': {
      exit: () => { throw new Error('mission_control component called exit'); },
      exitWithCode: () => { throw new Error('mission_control component called exit'); },
    },
    'wasi:cli/stderr': cli.stderr,
    'wasi:cli/stdin': cli.stdin,
    'wasi:cli/stdout': cli.stdout,
    'wasi:cli/terminal-input': cli.terminalInput,
    'wasi:cli/terminal-output': cli.terminalOutput,
    'wasi:cli/terminal-stderr': cli.terminalStderr,
    'wasi:cli/terminal-stdin': cli.terminalStdin,
    'wasi:cli/terminal-stdout': cli.terminalStdout,
    'wasi:clocks/monotonic-clock': clocks.monotonicClock,
    'wasi:http/outgoing-handler': outgoingHandler,
    'wasi:http/types': http.types,
    'wasi:io/error': io.error,
    'wasi:io/poll': io.poll,
    'wasi:io/streams': io.streams,
    'wasi:random/insecure-seed': random.insecureSeed,
  };

  const root = instantiate(getCoreModule, imports);
  const actions = root.actions ?? root['mission-control:tool/actions@0.1.0'];
  return {
    describe: () => actions.describe(),
    execute: (paramsJson) => actions.execute(paramsJson),
    deniedRequests,
  };
}

/** A message for the model from the component's `tool-error` variant. */
export function describeToolError(error) {
  const payload = error?.payload;
  if (!payload || typeof payload.tag !== 'string') return null;
  const { tag, val } = payload;
  switch (tag) {
    case 'invalid-arguments':
      return `Invalid argument${val.field ? ` "${val.field}"` : ''}: ${val.message}`;
    case 'unauthorized':
      return `Mission Control rejected the token (unauthorized): ${val}. Check the plugin's token or MISSION_CONTROL_TOKEN.`;
    case 'not-found':
      return `Not found: ${val}`;
    case 'server-unreachable':
      return `Mission Control server unreachable: ${val}`;
    case 'server-error':
      return `Mission Control server error (HTTP ${val.status} ${val.code}): ${val.message}`;
    default:
      return `Mission Control error (${tag}): ${JSON.stringify(val)}`;
  }
}
