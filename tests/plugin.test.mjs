// The OpenClaw plugin package (openclaw-plugin/package, built) against the real server, without
// OpenClaw: `register()` is cheap (no WebAssembly, worker, network or runtime module) and
// records one `mission_control` tool whose schema is the component's own; `execute()` creates a
// task that shows up over REST and is broadcast over Socket.io; results keep data under a
// wrapper key with `ok: true`; argument errors are input errors naming the field; a forbidden
// action and a stale version are failed results that say what to do; a server that
// never answers ends in a timeout without blocking the event loop; an abort cancels the request.
//
// Needs Node 24 (the component runs under WebAssembly JSPI): under Node 20 the file runs itself
// again under Node 24 from npm (tests/lib/node24.mjs). Needs the built package:
//   npm ci --prefix openclaw-plugin/package && npm run --prefix openclaw-plugin/package build
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { io } from 'socket.io-client';
import { startServer, ADMIN } from './lib/server.mjs';
import { hasJspi, runUnderNode24 } from './lib/node24.mjs';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'openclaw-plugin', 'package');
const indexUrl = pathToFileURL(path.join(packageDir, 'index.js')).href;

test('the plugin tests, under Node 24', { skip: hasJspi && 'this is Node 24' }, (t) => runUnderNode24(t, import.meta.url));

/**
 * Checks `value` against the subset of JSON Schema the tool's schema uses (type, enum,
 * required, properties, additionalProperties, items, length and range bounds).
 * Returns the first problem as "path: message", or null.
 */
function check(schema, value, at = '$') {
  const types = [].concat(schema.type ?? []);
  const typeOf = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array'
    : Number.isInteger(v) ? 'integer' : typeof v);
  if (types.length && !types.some((t) => t === typeOf(value) || (t === 'number' && typeof value === 'number'))) {
    return `${at}: expected ${types.join('|')}, got ${typeOf(value)}`;
  }
  if (schema.enum && !schema.enum.includes(value)) return `${at}: not one of ${schema.enum.join(', ')}`;
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) return `${at}: too short`;
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return `${at}: too long`;
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return `${at}: below minimum`;
    if (schema.maximum !== undefined && value > schema.maximum) return `${at}: above maximum`;
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return `${at}: too many items`;
    for (const [i, item] of value.entries()) {
      const problem = schema.items && check(schema.items, item, `${at}[${i}]`);
      if (problem) return problem;
    }
  }
  if (typeOf(value) === 'object') {
    for (const key of schema.required ?? []) if (!(key in value)) return `${at}.${key}: required`;
    for (const [key, v] of Object.entries(value)) {
      const sub = schema.properties?.[key];
      if (!sub) {
        if (schema.additionalProperties === false) return `${at}.${key}: not allowed`;
        continue;
      }
      const problem = check(sub, v, `${at}.${key}`);
      if (problem) return problem;
    }
  }
  return null;
}

/** An HTTP server on a random port that reads each request and never answers (or `reply`s
 * part of an answer, then stalls). `closed` resolves when a client's connection closes. */
async function stallingServer(reply) {
  const sockets = [];
  let onClose;
  const closed = new Promise((resolve) => { onClose = resolve; });
  const server = createServer((req, res) => {
    req.socket.once('close', () => onClose(Date.now()));
    if (reply) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write(reply);
    }
  });
  server.on('connection', (s) => sockets.push(s));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    closed,
    close: () => { for (const s of sockets) s.destroy(); return new Promise((resolve) => server.close(resolve)); },
  };
}

/** Counts the 10 ms timer ticks while `promise` is pending: a blocked event loop counts none. */
async function ticksDuring(promise) {
  let ticks = 0;
  const timer = setInterval(() => { ticks += 1; }, 10);
  const started = performance.now();
  try {
    const value = await promise;
    return { value, ticks, ms: performance.now() - started };
  } finally {
    clearInterval(timer);
  }
}

describe('the plugin package', { skip: !hasJspi && 'needs Node 24 (JSPI); run by the test above' }, () => {
  let server;
  let plugin;
  let createMissionControlTool;
  let resolveSettings;

  before(async () => {
    ({ default: plugin, createMissionControlTool } = await import(indexUrl));
    ({ resolveSettings } = await import(new URL('./lib/settings.js', indexUrl).href));
    server = await startServer();
  });

  after(async () => {
    await server?.stop();
  });

  function register(pluginConfig, logger = { info() {}, warn() {}, error() {}, debug() {} }) {
    const calls = [];
    plugin.register({
      id: plugin.id,
      pluginConfig,
      registerTool: (tool, opts) => calls.push({ tool, opts }),
      logger,
    });
    return calls;
  }

  test('register() loads no WebAssembly, worker, network or runtime module; the first call does', () => {
    // A fresh process, so that the module graph and the counters see only this plugin.
    const probe = `
      import { registerHooks } from 'node:module';
      const loaded = new Set();
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.add(r.url); return r; } });
      const counts = { wasm: 0, fetch: 0, connect: 0 };
      for (const k of ['compile', 'instantiate', 'compileStreaming', 'instantiateStreaming', 'validate']) {
        const f = WebAssembly[k];
        WebAssembly[k] = function (...a) { counts.wasm += 1; return f.apply(this, a); };
      }
      const fetch0 = globalThis.fetch;
      globalThis.fetch = (...a) => { counts.fetch += 1; return fetch0(...a); };
      const net = await import('node:net');
      const connect0 = net.Socket.prototype.connect;
      net.Socket.prototype.connect = function (...a) { counts.connect += 1; return connect0.apply(this, a); };
      const seen = () => [...loaded].filter((u) => u.includes('/openclaw-plugin/package/') || u === 'node:worker_threads')
        .map((u) => u.replace(/^.*\\/openclaw-plugin\\/package\\//, '')).sort();
      const { default: plugin } = await import(${JSON.stringify(indexUrl)});
      const tools = [];
      plugin.register({ id: plugin.id, pluginConfig: { url: 'http://127.0.0.1:9' },
        registerTool: (tool, opts) => tools.push({ tool, opts }), logger: console });
      const afterRegister = { counts: { ...counts }, modules: seen() };
      const result = await tools[0].tool.execute('probe', { action: 'list_tasks' });
      console.log(JSON.stringify({ registered: tools.map((t) => t.opts), afterRegister,
        afterCall: { counts, modules: seen() }, details: result.details }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.deepEqual(out.registered, [{ name: 'mission_control' }]);
    assert.deepEqual(out.afterRegister.counts, { wasm: 0, fetch: 0, connect: 0 });
    assert.deepEqual(out.afterRegister.modules, ['index.js', 'lib/results.js', 'lib/settings.js']);
    // The probe itself is sound: the first call loads the runtime, compiles and connects.
    assert.ok(out.afterCall.modules.includes('dist/runtime.js'), JSON.stringify(out.afterCall.modules));
    assert.ok(!out.afterCall.modules.includes('node:worker_threads'), 'no worker threads, even at call time');
    assert.ok(out.afterCall.counts.wasm > 0 && out.afterCall.counts.fetch > 0, JSON.stringify(out.afterCall.counts));
    assert.equal(out.details.ok, false);
    assert.equal(out.details.error.code, 'server-unreachable');
  });

  test('the registered tool is the component\'s own description (dist/tool.json == describe())', async () => {
    const [{ tool, opts }] = register({ url: server.url, token: server.token });
    const { describe: describeComponent } = await import(new URL('./dist/runtime.js', indexUrl).href);
    const own = await describeComponent();
    assert.equal(tool.name, own.name);
    assert.equal(opts?.name, own.name);
    assert.equal(tool.description, own.description);
    assert.deepEqual(tool.parameters, JSON.parse(own.parametersSchema));
    assert.deepEqual(JSON.parse(readFileSync(path.join(packageDir, 'dist', 'tool.json'), 'utf8')).parameters, tool.parameters);
    const manifest = JSON.parse(readFileSync(path.join(packageDir, 'openclaw.plugin.json'), 'utf8'));
    assert.deepEqual(manifest.contracts.tools, [tool.name]);
  });

  test('register() records one mission_control tool with a JSON schema a model provider takes', () => {
    const calls = register({ url: server.url, token: server.token });
    assert.equal(calls.length, 1);
    const { tool } = calls[0];
    assert.equal(tool.name, 'mission_control');
    assert.equal(typeof tool.execute, 'function');
    assert.equal(typeof tool.label, 'string');
    assert.match(tool.description, /create_task/);

    const schema = tool.parameters;
    assert.equal(schema.type, 'object');
    assert.deepEqual(schema.required, ['action']);
    assert.equal(schema.additionalProperties, false);
    // The actions come from the component (its catalogue), all of them.
    for (const action of ['create_task', 'update_task', 'move_task', 'list_tasks', 'get_task', 'delete_task',
      'list_agents', 'set_agent_status', 'list_events', 'heartbeat', 'claim', 'claim_next',
      'release', 'complete', 'comment', 'list_comments']) {
      assert.ok(schema.properties.action.enum.includes(action), action);
    }
    for (const [name, prop] of Object.entries(schema.properties)) {
      assert.ok(prop.type, `${name} has a type`);
      assert.equal(typeof prop.description, 'string', `${name} has a description`);
      if (prop.enum) assert.equal(new Set(prop.enum).size, prop.enum.length, `${name} enum is unique`);
    }
    for (const k of ['oneOf', 'anyOf', 'allOf', 'not', '$ref']) assert.ok(!(k in schema), k);
    assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);

    const valid = [
      { action: 'create_task', title: 'Fix auth bug', description: "Users can't log in", status: 'todo', assignedAgent: 'agent-patch', priority: 'critical', tags: ['bug', 'auth'] },
      { action: 'update_task', taskId: 'task-123', status: 'done' },
      { action: 'move_task', taskId: 'task-123', newStatus: 'in-progress' },
      { action: 'list_tasks', status: 'todo' },
      { action: 'update_task', taskId: 'task-123', description: null, priority: null },
      { action: 'set_agent_status', agentId: 'agent-patch', agentStatus: 'busy' },
      { action: 'list_events', since: 0, limit: 10 },
    ];
    for (const v of valid) assert.equal(check(schema, v), null, JSON.stringify(v));
    const invalid = [
      { title: 'no action' },
      { action: 'archive_task' },
      { action: 'move_task', taskId: 'task-1', newStatus: 'archived' },
      { action: 'create_task', title: 'x', priority: 'urgent' },
      { action: 'create_task', title: 'x', colour: 'red' },
      { action: 'list_events', limit: 501 },
    ];
    for (const v of invalid) assert.notEqual(check(schema, v), null, JSON.stringify(v));
  });

  test('settings: plugin config, then MISSION_CONTROL_URL / MISSION_CONTROL_TOKEN, then defaults', () => {
    assert.deepEqual(
      resolveSettings({ url: 'http://mc.local:3002/', token: 'from-config', firstByteTimeoutMs: 5000 }, { MISSION_CONTROL_TOKEN: 'from-env' }),
      { url: 'http://mc.local:3002', token: 'from-config', timeouts: { firstByteMs: 5000 } },
    );
    assert.deepEqual(
      resolveSettings({}, { MISSION_CONTROL_TOKEN: 'from-env', MISSION_CONTROL_URL: 'http://mc.local:9000' }),
      { url: 'http://mc.local:9000', token: 'from-env', timeouts: {} },
    );
    assert.deepEqual(resolveSettings({}, {}), { url: 'http://localhost:3002', token: undefined, timeouts: {} });
    // An unresolved SecretRef is no token; out-of-range limits keep the component's defaults.
    assert.deepEqual(
      resolveSettings({ token: { source: 'store', provider: 'default', id: 'X' }, connectTimeoutMs: 5, betweenBytesTimeoutMs: 1.5 }, {}),
      { url: 'http://localhost:3002', token: undefined, timeouts: {} },
    );
  });

  test('execute() creates a task that appears in GET /api/tasks and is broadcast over Socket.io', async () => {
    const socket = io(server.url, { auth: { token: server.token }, transports: ['websocket'], reconnection: false });
    try {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('socket.io did not connect')), 5000);
        socket.once('connect', () => { clearTimeout(timer); resolve(); });
        socket.once('connect_error', (e) => { clearTimeout(timer); reject(e); });
      });
      const created = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no task.created within 5 s')), 5000);
        socket.on('task.created', (payload) => {
          if (payload?.task?.title === 'Fix auth bug (via tool)') { clearTimeout(timer); resolve(payload.task); }
        });
      });

      const [{ tool }] = register({ url: server.url, token: server.token });
      const result = await tool.execute('call-1', {
        action: 'create_task',
        title: 'Fix auth bug (via tool)',
        description: "Users can't log in",
        status: 'todo',
        assignedAgent: ADMIN.id,
        priority: 'critical',
        tags: ['bug', 'auth'],
      });
      assert.equal(result.details.ok, true);
      const task = result.details.task;
      assert.match(task.id, /^task-/);
      assert.equal(task.status, 'todo');
      assert.equal(task.createdBy, ADMIN.id);
      assert.equal(result.content[0].type, 'text');
      assert.deepEqual(JSON.parse(result.content[0].text), result.details);

      const listed = await server.request('GET', '/api/tasks', undefined, server.token);
      const found = listed.body.tasks.find((t) => t.id === task.id);
      assert.ok(found, 'the task is in GET /api/tasks');
      assert.deepEqual(found.tags, ['bug', 'auth']);
      assert.equal((await created).id, task.id);

      const moved = await tool.execute('call-2', { action: 'move_task', taskId: task.id, newStatus: 'in-progress' });
      assert.equal(moved.details.task.status, 'in-progress');
      const list = await tool.execute('call-3', { action: 'list_tasks', status: 'in-progress' });
      assert.deepEqual(list.details.tasks.map((t) => t.id), [task.id]);
      const done = await tool.execute('call-4', { action: 'update_task', taskId: task.id, status: 'done', priority: null });
      assert.equal(done.details.task.status, 'done');
      assert.equal(done.details.task.priority, null);
      const gone = await tool.execute('call-5', { action: 'delete_task', taskId: task.id });
      assert.deepEqual(gone.details, { ok: true, deleted: task.id });
      const afterDelete = await server.request('GET', `/api/tasks/${task.id}`, undefined, server.token);
      assert.equal(afterDelete.status, 404);
    } finally {
      socket.close();
    }
  });

  test('calls can overlap: each runs in its own instance', async () => {
    const [{ tool }] = register({ url: server.url, token: server.token });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => tool.execute(`p${i}`,
      i % 2 ? { action: 'list_agents' } : { action: 'create_task', title: `parallel ${i}` })));
    for (const r of results) assert.equal(r.details.ok, true, JSON.stringify(r.details));
  });

  test('bad arguments and unknown ids are input errors naming the field; server failures are failed results', async () => {
    const [{ tool }] = register({ url: server.url, token: server.token });
    await assert.rejects(
      tool.execute('e1', { action: 'move_task', taskId: 'task-1', newStatus: 'archived' }),
      (e) => e.name === 'ToolInputError' && e.status === 400 && e.field === 'newStatus' && /"newStatus"/.test(e.message),
    );
    await assert.rejects(
      tool.execute('e2', { action: 'create_task' }),
      (e) => e.name === 'ToolInputError' && e.field === 'title',
    );
    await assert.rejects(
      tool.execute('e3', { action: 'get_task', taskId: 'task-00000000-0000-7000-8000-000000000000' }),
      (e) => e.name === 'ToolInputError' && /^Not found/.test(e.message),
    );
    const [{ tool: badToken }] = register({ url: server.url, token: 'not-a-token' });
    const refused = await badToken.execute('e4', { action: 'list_tasks' });
    assert.equal(refused.details.ok, false);
    assert.equal(refused.details.error.code, 'unauthorized');
    assert.match(refused.content[0].text, /token/);
    const [{ tool: down }] = register({ url: 'http://127.0.0.1:9', token: server.token });
    const unreachable = await down.execute('e5', { action: 'list_tasks' });
    assert.equal(unreachable.details.error.code, 'server-unreachable');
    assert.equal(unreachable.details.timedOut, undefined);
    const ok = await tool.execute('e6', { action: 'list_agents' });
    assert.ok(ok.details.agents.some((a) => a.id === ADMIN.id));
  });

  test('an action the agent may not do, and a stale version, are failed results that say what to do', async () => {
    const scout = await server.request('POST', '/api/agents', { id: 'agent-scout', name: 'Scout', role: 'Research' }, server.token);
    assert.equal(scout.status, 201, JSON.stringify(scout.body));
    const minted = await server.request('POST', '/api/auth/tokens', { agentId: 'agent-scout' }, server.token);
    assert.equal(minted.status, 201, JSON.stringify(minted.body));
    // Another agent's card: not allowed, whatever the token (HTTP 403), not a token problem.
    const [{ tool: asScout }] = register({ url: server.url, token: minted.body.token });
    const forbidden = await asScout.execute('f1', { action: 'set_agent_status', agentId: ADMIN.id, agentStatus: 'offline' });
    assert.equal(forbidden.details.ok, false);
    assert.equal(forbidden.details.error.code, 'forbidden');
    assert.match(forbidden.content[0].text, /only its own card/);
    assert.match(forbidden.content[0].text, /a new token will not change this/);
    assert.doesNotMatch(forbidden.content[0].text, /Check the plugin's token/);

    // A version that is no longer current (HTTP 412): nothing is written, and the result names
    // the version the retry takes.
    const [{ tool }] = register({ url: server.url, token: server.token });
    const { task } = (await tool.execute('v1', { action: 'create_task', title: 'Versioned card' })).details;
    const moved = (await tool.execute('v2', { action: 'move_task', taskId: task.id, newStatus: 'todo', version: task.version })).details.task;
    const stale = await tool.execute('v3', { action: 'update_task', taskId: task.id, title: 'Overwrite', version: task.version });
    assert.equal(stale.details.ok, false);
    assert.equal(stale.details.error.code, 'task-changed');
    const stored = (await server.request('GET', `/api/tasks/${task.id}`, undefined, server.token)).body.task;
    assert.equal(stored.title, 'Versioned card');
    assert.equal(stale.details.currentVersion, stored.version);
    assert.equal(stale.details.currentVersion, moved.version);
    assert.match(stale.content[0].text, new RegExp(`changed since version ${task.version}.*retry with version ${moved.version}`));
    const retried = await tool.execute('v4', { action: 'update_task', taskId: task.id, title: 'Renamed', version: stale.details.currentVersion });
    assert.equal(retried.details.task.title, 'Renamed');
  });

  test('the token can come from MISSION_CONTROL_TOKEN', async () => {
    const tool = createMissionControlTool({ url: server.url }, { env: { MISSION_CONTROL_TOKEN: server.token } });
    const result = await tool.execute('env-1', { action: 'list_agents' });
    assert.ok(Array.isArray(result.details.agents));
  });

  test('the plugin lets the component reach the configured origin only', async () => {
    const warnings = [];
    const tool = createMissionControlTool(
      { url: server.url, token: server.token },
      { allowedOrigin: 'http://127.0.0.1:1', logger: { warn: (m) => warnings.push(m) } },
    );
    const result = await tool.execute('o1', { action: 'create_task', title: 'must not arrive' });
    assert.equal(result.details.error.code, 'server-unreachable');
    assert.match(result.details.error.message, /denied/);
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0].includes(`${server.url}/api/tasks`), warnings[0]);
    const listed = await server.request('GET', '/api/tasks', undefined, server.token);
    assert.ok(!listed.body.tasks.some((t) => t.title === 'must not arrive'));
  });

  test('a server that never answers: the call times out at the configured limits, the event loop runs on', async () => {
    const silent = await stallingServer();
    try {
      const tool = createMissionControlTool({ url: silent.url, token: 't', connectTimeoutMs: 200, firstByteTimeoutMs: 800 });
      const { value, ticks, ms } = await ticksDuring(tool.execute('t1', { action: 'list_tasks' }));
      assert.equal(value.details.ok, false);
      assert.equal(value.details.timedOut, true);
      assert.equal(value.details.timeoutMs, 1000);
      assert.equal(value.details.error.code, 'timed-out');
      assert.match(value.content[0].text, /did not answer within 1 s/);
      assert.ok(ms >= 900 && ms < 10_000, `took ${ms} ms`);
      // A loop blocked for the call would count no ticks at all.
      assert.ok(ticks >= ms / 10 / 4, `${ticks} ticks of 10 ms in ${ms.toFixed(0)} ms`);
    } finally {
      await silent.close();
    }
  });

  test('an answer that stalls midway times out between bytes', async () => {
    const stalled = await stallingServer('{"tasks":[');
    try {
      const tool = createMissionControlTool({ url: stalled.url, token: 't', betweenBytesTimeoutMs: 300 });
      const result = await tool.execute('t2', { action: 'list_tasks' });
      assert.equal(result.details.timedOut, true, JSON.stringify(result.details));
      assert.equal(result.details.timeoutMs, 300);
      assert.match(result.details.error.message, /stopped sending/);
    } finally {
      await stalled.close();
    }
  });

  test('the AbortSignal ends the call at once and cancels its request', async () => {
    const silent = await stallingServer();
    try {
      const tool = createMissionControlTool({ url: silent.url, token: 't' });
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('stop: the user cancelled')), 300);
      const started = Date.now();
      await assert.rejects(tool.execute('a1', { action: 'list_tasks' }, controller.signal), /the user cancelled/);
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
      const closedAt = await Promise.race([silent.closed, new Promise((r) => setTimeout(() => r(null), 5000))]);
      assert.ok(closedAt, 'the request to the server was cancelled');
      await assert.rejects(tool.execute('a2', { action: 'list_tasks' }, controller.signal), /the user cancelled/);
    } finally {
      await silent.close();
    }
  });
});
