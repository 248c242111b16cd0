// The OpenClaw plugin package (openclaw-plugin/package) against the real server: register()
// records one `mission_control` tool with the component's JSON schema; its execute() creates a
// task that shows up over REST and is broadcast over Socket.io ("agent creates task via tool,
// see it appear in UI", minus the UI); errors come back as clear messages; the plugin lets the
// component reach the configured origin only.
// Needs the transpiled component: (cd openclaw-plugin/package && npm install && npm run build).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { startServer, ADMIN } from './lib/server.mjs';
import plugin, { createMissionControlTool, resolveSettings } from '../openclaw-plugin/package/index.js';

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

function register(pluginConfig) {
  const calls = [];
  plugin.register({
    id: plugin.id,
    pluginConfig,
    registerTool: (tool, opts) => calls.push({ tool, opts }),
    logger: { info() {}, warn() {}, error() {}, debug() {} },
  });
  return calls;
}

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

test('register() registers one mission_control tool with the component\'s JSON schema', () => {
  const calls = register({ url: server.url, token: server.token });
  assert.equal(calls.length, 1);
  const { tool, opts } = calls[0];
  assert.equal(tool.name, 'mission_control');
  assert.equal(opts?.name, 'mission_control');
  assert.equal(typeof tool.execute, 'function');
  assert.equal(typeof tool.label, 'string');
  assert.match(tool.description, /create_task/);

  const schema = tool.parameters;
  assert.equal(schema.type, 'object');
  assert.deepEqual(schema.required, ['action']);
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(schema.properties.action.enum, [
    'create_task', 'update_task', 'move_task', 'list_tasks', 'get_task', 'delete_task',
    'list_agents', 'set_agent_status', 'list_events', 'heartbeat', 'claim', 'claim_next',
    'release', 'complete', 'comment', 'list_comments',
  ]);
  for (const [name, prop] of Object.entries(schema.properties)) {
    assert.ok(prop.type, `${name} has a type`);
    assert.equal(typeof prop.description, 'string', `${name} has a description`);
    if (prop.enum) assert.equal(new Set(prop.enum).size, prop.enum.length, `${name} enum is unique`);
  }
  // A schema a model provider can take: no composition keywords at the top.
  for (const k of ['oneOf', 'anyOf', 'allOf', 'not', '$ref']) assert.ok(!(k in schema), k);
  // Round-trips as JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);

  // The spec's example calls are valid; broken ones are not.
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

test('the configured token wins over MISSION_CONTROL_TOKEN, which is the fallback', () => {
  assert.deepEqual(
    resolveSettings({ url: 'http://mc.local:3002/', token: 'from-config' }, { MISSION_CONTROL_TOKEN: 'from-env' }),
    { url: 'http://mc.local:3002', token: 'from-config' },
  );
  assert.deepEqual(
    resolveSettings({}, { MISSION_CONTROL_TOKEN: 'from-env', MISSION_CONTROL_URL: 'http://mc.local:9000' }),
    { url: 'http://mc.local:9000', token: 'from-env' },
  );
  assert.deepEqual(resolveSettings({}, {}), { url: 'http://localhost:3002', token: undefined });
});

test('execute() creates a task that appears in GET /api/tasks and is broadcast over Socket.io', async () => {
  const socket = io(server.url, {
    auth: { token: server.token },
    transports: ['websocket'],
    reconnection: false,
  });
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
    const task = result.details.task;
    assert.match(task.id, /^task-/);
    assert.equal(task.status, 'todo');
    assert.equal(task.createdBy, ADMIN.id);
    assert.equal(result.content[0].type, 'text');
    assert.equal(JSON.parse(result.content[0].text).task.id, task.id);

    const listed = await server.request('GET', '/api/tasks', undefined, server.token);
    assert.equal(listed.status, 200);
    const found = listed.body.tasks.find((t) => t.id === task.id);
    assert.ok(found, 'the task is in GET /api/tasks');
    assert.equal(found.title, 'Fix auth bug (via tool)');
    assert.deepEqual(found.tags, ['bug', 'auth']);

    const broadcast = await created;
    assert.equal(broadcast.id, task.id);

    // And the rest of the flow through the same tool.
    const moved = await tool.execute('call-2', { action: 'move_task', taskId: task.id, newStatus: 'in-progress' });
    assert.equal(moved.details.task.status, 'in-progress');
    const list = await tool.execute('call-3', { action: 'list_tasks', status: 'in-progress' });
    assert.deepEqual(list.details.tasks.map((t) => t.id), [task.id]);
    const done = await tool.execute('call-4', { action: 'update_task', taskId: task.id, status: 'done', priority: null });
    assert.equal(done.details.task.status, 'done');
    assert.equal(done.details.task.priority, null);
    const gone = await tool.execute('call-5', { action: 'delete_task', taskId: task.id });
    assert.deepEqual(gone.details, { deleted: task.id });
    const after = await server.request('GET', `/api/tasks/${task.id}`, undefined, server.token);
    assert.equal(after.status, 404);
  } finally {
    socket.close();
  }
});

test('errors reach the model as clear messages, not traps', async () => {
  const [{ tool }] = register({ url: server.url, token: server.token });
  await assert.rejects(
    tool.execute('e1', { action: 'move_task', taskId: 'task-1', newStatus: 'archived' }),
    (e) => e.code === 'invalid-arguments' && e.details.field === 'newStatus' && /newStatus/.test(e.message),
  );
  await assert.rejects(
    tool.execute('e2', { action: 'get_task', taskId: 'task-00000000-0000-7000-8000-000000000000' }),
    (e) => e.code === 'not-found' && /^Not found/.test(e.message),
  );
  const [{ tool: badToken }] = register({ url: server.url, token: 'not-a-token' });
  await assert.rejects(
    badToken.execute('e3', { action: 'list_tasks' }),
    (e) => e.code === 'unauthorized' && /token/.test(e.message),
  );
  const [{ tool: down }] = register({ url: 'http://127.0.0.1:9', token: server.token });
  await assert.rejects(
    down.execute('e4', { action: 'list_tasks' }),
    (e) => e.code === 'server-unreachable',
  );
  // The component still works after errors.
  const ok = await tool.execute('e5', { action: 'list_agents' });
  assert.ok(ok.details.agents.some((a) => a.id === ADMIN.id));
});

test('the token can come from MISSION_CONTROL_TOKEN', async () => {
  const tool = createMissionControlTool({ url: server.url }, { env: { MISSION_CONTROL_TOKEN: server.token } });
  const result = await tool.execute('env-1', { action: 'list_agents' });
  assert.ok(Array.isArray(result.details.agents));
});

test('the plugin lets the component reach the configured origin only', async () => {
  const tool = createMissionControlTool(
    { url: server.url, token: server.token },
    { allowedOrigin: 'http://127.0.0.1:1' },
  );
  await assert.rejects(
    tool.execute('o1', { action: 'create_task', title: 'must not arrive' }),
    (e) => e.code === 'server-unreachable' && /denied/.test(e.message),
  );
  const listed = await server.request('GET', '/api/tasks', undefined, server.token);
  assert.ok(!listed.body.tasks.some((t) => t.title === 'must not arrive'));
});
