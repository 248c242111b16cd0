// The board's MCP server, driven by the official TypeScript clients over Streamable HTTP
// (POST /mcp) and over stdio (`mission-control-server mcp`), against the real server: the 1.x
// SDK (@modelcontextprotocol/sdk), which speaks the 2025 revisions (`initialize`), and the 2.x
// client (@modelcontextprotocol/client) with version negotiation on, which speaks the newest
// revision, 2026-07-28 (`server/discover`, `resultType` and caching hints on every result).
// Each pair of client and transport calls every tool as an agent (Nova, with its own token) on
// a board of its own; what it did is checked on the REST API and over Socket.io.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client as Client2025 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as Http2025 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport as Stdio2025 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LATEST_PROTOCOL_VERSION as LATEST_2025 } from '@modelcontextprotocol/sdk/types.js';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { io } from 'socket.io-client';
import { startServer, serverBinary } from './lib/server.mjs';

const ACTIONS = [
  'create_task', 'update_task', 'move_task', 'list_tasks', 'get_task', 'delete_task',
  'list_agents', 'set_agent_status', 'list_events', 'heartbeat', 'claim', 'claim_next',
  'release', 'complete', 'comment', 'list_comments',
];
const INFO = { name: 'mission-control-node-test', version: '1.0.0' };

/** The official clients, each with its transports; `revision` matches what it must negotiate. */
const CLIENTS = [
  {
    name: '@modelcontextprotocol/sdk 1.x (2025 revisions)',
    revision: /^2025-/,
    make: () => new Client2025(INFO),
    // What `initialize` settled on. The 1.x client keeps it on its HTTP transport only; over
    // stdio it refuses at connect a version it does not know, and it knows none after 2025.
    negotiated: (client) => client.transport?.protocolVersion ?? LATEST_2025,
    Http: Http2025,
    Stdio: Stdio2025,
  },
  {
    name: '@modelcontextprotocol/client 2.x (2026-07-28)',
    revision: /^2026-07-28$/,
    make: () => new Client(INFO, { versionNegotiation: { mode: 'auto' } }),
    negotiated: (client) => client.getNegotiatedProtocolVersion(),
    Http: StreamableHTTPClientTransport,
    Stdio: StdioClientTransport,
  },
];

const TRANSPORTS = {
  'Streamable HTTP': (sdk, server, token) => new sdk.Http(new URL(`${server.url}/mcp`), {
    requestInit: { headers: token ? { Authorization: `Bearer ${token}` } : {} },
  }),
  stdio: (sdk, server, token) => new sdk.Stdio({
    command: serverBinary(),
    args: ['mcp', '--url', server.url, '--token', token],
    stderr: 'pipe',
  }),
};

/** A client of `sdk`'s connected over `transport` with `token`. */
async function connect(sdk, transport, server, token) {
  const client = sdk.make();
  await client.connect(TRANSPORTS[transport](sdk, server, token));
  return client;
}

/** A fresh board with the agent Nova; `nova` is its token. */
async function boardWithNova() {
  const server = await startServer();
  const agent = await server.request('POST', '/api/agents', { id: 'agent-nova', name: 'Nova', role: 'Research' }, server.token);
  assert.equal(agent.status, 201, JSON.stringify(agent.body));
  const minted = await server.request('POST', '/api/auth/tokens', { agentId: 'agent-nova' }, server.token);
  assert.equal(minted.status, 201, JSON.stringify(minted.body));
  return { server, nova: minted.body.token };
}

/** Calls a tool that must succeed; its structured content. */
async function call(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  assert.notEqual(result.isError, true, `${name}: ${JSON.stringify(result.content)}`);
  assert.equal(result.content[0].type, 'text');
  assert.ok(result.content[0].text.length > 0 && result.content[0].text.length < 2000, result.content[0].text);
  return result.structuredContent;
}

/** Calls a tool that must fail with a tool error; the REST API's error body it carries. */
async function fails(client, name, args) {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, true, `${name} ${JSON.stringify(args)} should fail: ${JSON.stringify(result)}`);
  assert.equal(result.structuredContent, undefined, 'an error is not the success answer');
  return { error: JSON.parse(result.content[1].text).error, text: result.content[0].text };
}

/** A socket of the operator's that records the task events it receives. */
function watch(server) {
  const socket = io(server.url, { auth: { token: server.token }, transports: ['websocket'], reconnection: false, forceNew: true });
  socket.received = [];
  for (const name of ['task.created', 'task.updated', 'task.deleted', 'comment.created', 'event.new']) {
    socket.on(name, (payload) => socket.received.push({ name, payload }));
  }
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

async function until(predicate, what, ms = 3000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = predicate();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every tool, in a worker's order, as Nova; each change checked on REST and over Socket.io. */
async function everyTool(client, server) {
  const socket = await watch(server);
  try {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [...ACTIONS].sort());
    for (const tool of tools) {
      assert.equal(tool.inputSchema.type, 'object', tool.name);
      assert.equal(tool.outputSchema.type, 'object', tool.name);
      assert.ok(tool.description.length > 20, tool.name);
    }
    const create = tools.find((t) => t.name === 'create_task');
    assert.deepEqual(create.inputSchema.required, ['title']);
    assert.equal(create.inputSchema.properties.title.maxLength, 200);
    assert.equal(tools.find((t) => t.name === 'list_tasks').annotations.readOnlyHint, true);
    assert.equal(tools.find((t) => t.name === 'delete_task').annotations.destructiveHint, true);

    // create_task: on the REST API and over Socket.io, with Nova as its author.
    const { task } = await call(client, 'create_task', {
      title: 'Fix auth bug', description: 'Users cannot log in', status: 'todo', priority: 'high',
      tags: ['bug'], idempotencyKey: 'node-create-1',
    });
    assert.equal(task.createdBy, 'agent-nova');
    const again = await call(client, 'create_task', {
      title: 'Fix auth bug', description: 'Users cannot log in', status: 'todo', priority: 'high',
      tags: ['bug'], idempotencyKey: 'node-create-1',
    });
    assert.equal(again.task.id, task.id, 'a retry with the same key creates nothing');
    const rest = await server.request('GET', `/api/tasks/${task.id}`, undefined, server.token);
    assert.equal(rest.status, 200);
    assert.equal(rest.body.task.title, 'Fix auth bug');
    assert.equal(rest.body.task.createdBy, 'agent-nova');
    const created = await until(() => socket.received.find((e) => e.name === 'task.created' && e.payload.task.id === task.id), 'task.created');
    assert.equal(created.payload.task.createdBy, 'agent-nova');
    await until(() => socket.received.find((e) => e.name === 'event.new' && e.payload.event.agentId === 'agent-nova' && /Nova created/.test(e.payload.event.message)), 'Nova created …');

    // update_task and move_task with the version read; a stale version is refused.
    const updated = await call(client, 'update_task', { taskId: task.id, title: 'Fix the auth bug', version: task.version });
    assert.equal(updated.task.version, task.version + 1);
    const stale = await fails(client, 'move_task', { taskId: task.id, newStatus: 'done', version: task.version });
    assert.equal(stale.error.code, 'precondition_failed');
    const moved = await call(client, 'move_task', { taskId: task.id, newStatus: 'backlog', version: updated.task.version });
    assert.equal(moved.task.status, 'backlog');
    assert.equal(moved.task.updatedBy, 'agent-nova');
    await until(() => socket.received.find((e) => e.name === 'task.updated' && e.payload.task.status === 'backlog'), 'task.updated');

    const got = await call(client, 'get_task', { taskId: task.id });
    assert.equal(got.task.title, 'Fix the auth bug');
    await call(client, 'move_task', { taskId: task.id, newStatus: 'todo' });

    // The worker loop: heartbeat, claim_next, comment, complete.
    const beat = await call(client, 'heartbeat', { agentStatus: 'busy' });
    assert.equal(beat.agent.id, 'agent-nova');
    assert.equal(beat.next.id, task.id);
    const next = await call(client, 'claim_next', { leaseSeconds: 600 });
    assert.equal(next.task.id, task.id);
    assert.equal(next.task.assignedAgent, 'agent-nova');
    assert.ok(next.task.leaseExpiresAt > Date.now());
    const note = await call(client, 'comment', { taskId: task.id, text: 'Found it: the cookie expires early.' });
    assert.equal(note.comment.author, 'agent-nova');
    await until(() => socket.received.find((e) => e.name === 'comment.created' && e.payload.comment.id === note.comment.id), 'comment.created');
    const done = await call(client, 'complete', { taskId: task.id, note: 'Fixed; tests pass.' });
    assert.equal(done.task.status, 'done');
    assert.equal(done.comment.text, 'Fixed; tests pass.');
    const notes = await call(client, 'list_comments', { taskId: task.id, limit: 1 });
    assert.equal(notes.comments.length, 1);
    assert.equal(notes.hasMore, true);
    const restNotes = await server.request('GET', `/api/tasks/${task.id}/comments`, undefined, server.token);
    assert.deepEqual(restNotes.body.comments.map((c) => c.author), ['agent-nova', 'agent-nova']);

    // claim and release a second task; claim_next when there is nothing.
    const second = (await call(client, 'create_task', { title: 'Write docs', status: 'todo' })).task;
    const claimed = await call(client, 'claim', { taskId: second.id, leaseSeconds: 60 });
    assert.equal(claimed.task.status, 'in-progress');
    const released = await call(client, 'release', { taskId: second.id });
    assert.equal(released.task.status, 'todo');
    assert.equal(released.task.assignedAgent, null);
    const none = await call(client, 'claim_next', { tag: 'nothing-has-this-tag' });
    assert.equal(none.task, null);

    // Lists, agents, events, status; delete.
    const page = await call(client, 'list_tasks', { status: 'todo' });
    assert.deepEqual(page.tasks.map((t) => t.id), [second.id]);
    const agents = await call(client, 'list_agents');
    assert.ok(agents.agents.some((a) => a.id === 'agent-nova'));
    const busy = await call(client, 'set_agent_status', { agentId: 'me', agentStatus: 'busy' });
    assert.deepEqual([busy.agent.id, busy.agent.status], ['agent-nova', 'busy']);
    const status = await call(client, 'set_agent_status', { agentId: 'agent-nova', agentStatus: 'online' });
    assert.equal(status.agent.status, 'online');
    const events = await call(client, 'list_events', { limit: 5 });
    assert.equal(events.events.length, 5);
    assert.equal(typeof events.hasMore, 'boolean');
    const deleted = await call(client, 'delete_task', { taskId: second.id });
    assert.deepEqual(deleted, { deleted: second.id });
    assert.equal((await server.request('GET', `/api/tasks/${second.id}`, undefined, server.token)).status, 404);
    await until(() => socket.received.find((e) => e.name === 'task.deleted' && e.payload.taskId === second.id), 'task.deleted');

    // Resources: the board and a task.
    const { resources } = await client.listResources();
    assert.deepEqual(resources.map((r) => r.uri), ['mission-control://board']);
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.deepEqual(resourceTemplates.map((r) => r.uriTemplate), ['mission-control://tasks/{id}']);
    const board = JSON.parse((await client.readResource({ uri: 'mission-control://board' })).contents[0].text);
    assert.ok(board.tasks.some((t) => t.id === task.id));
    assert.ok(board.agents.some((a) => a.id === 'agent-nova'));
    const one = JSON.parse((await client.readResource({ uri: `mission-control://tasks/${task.id}` })).contents[0].text);
    assert.equal(one.task.status, 'done');
    assert.equal(one.comments.length, 2);
    await assert.rejects(client.readResource({ uri: 'mission-control://tasks/task-nope' }), /no task/);
  } finally {
    socket.close();
  }
}

/** Bad arguments: tool errors that name the field, and nothing changes on the board. */
async function badArguments(client, server) {
  await client.listTools(); // the client now checks answers against the output schemas
  const before = (await server.request('GET', '/api/tasks', undefined, server.token)).body.tasks.length;
  const cases = [
    ['create_task', { title: 5 }, 'title'],
    ['create_task', {}, 'title'],
    ['create_task', { title: '   ' }, 'title'], // refused by the core's own rule
    ['create_task', { title: 'x'.repeat(201) }, 'title'],
    ['create_task', { title: 'x', priority: 'urgent' }, 'priority'],
    // Well formed, but names no registered agent: a conflict with what is stored (409).
    ['create_task', { title: 'x', assignedAgent: 'agent-nobody' }, 'assignedAgent', 'conflict'],
    ['create_task', { title: 'x', colour: 'red' }, 'colour'],
    ['move_task', { taskId: 'task-1', newStatus: 'archived' }, 'newStatus'],
    ['claim', { taskId: 'task-1', leaseSeconds: 1 }, 'leaseSeconds'],
    ['heartbeat', { agentStatus: 'offline' }, 'agentStatus'],
    ['update_task', { taskId: 'task-1' }, 'title'],
  ];
  for (const [name, args, field, code = 'validation_failed'] of cases) {
    const { error, text } = await fails(client, name, args);
    assert.equal(error.code, code, `${name} ${JSON.stringify(args)}: ${text}`);
    assert.equal(error.details[0].field, field, `${name} ${JSON.stringify(args)}: ${text}`);
    assert.ok(text.includes(field), text);
  }
  const missing = await fails(client, 'get_task', { taskId: 'task-00000000-0000-7000-8000-000000000000' });
  assert.equal(missing.error.code, 'not_found');
  const after = (await server.request('GET', '/api/tasks', undefined, server.token)).body.tasks.length;
  assert.equal(after, before);
}

for (const sdk of CLIENTS) {
  for (const transport of Object.keys(TRANSPORTS)) {
    describe(`${sdk.name} over ${transport}`, () => {
      let server;
      let nova;
      let client;
      before(async () => {
        ({ server, nova } = await boardWithNova());
        client = await connect(sdk, transport, server, nova);
      });
      after(async () => {
        await client?.close();
        await server?.stop();
      });

      test('the revision it negotiated, the board\'s name and instructions', () => {
        assert.match(sdk.negotiated(client), sdk.revision);
        assert.equal(client.getServerVersion().name, 'mission-control');
        assert.match(client.getInstructions(), /heartbeat/);
      });

      test('every tool, as the agent, seen on REST and Socket.io', { timeout: 60_000 }, () => everyTool(client, server));

      test('bad arguments are tool errors that name the field, and change nothing', { timeout: 60_000 }, () => badArguments(client, server));

      test('no token, or a bad one, is refused', { timeout: 60_000 }, async () => {
        if (transport === 'stdio') {
          // The bridge says why on stderr and exits, before serving anything.
          await assert.rejects(connect(sdk, transport, server, 'forged.token.value'));
        } else {
          await assert.rejects(connect(sdk, transport, server, undefined));
          await assert.rejects(connect(sdk, transport, server, 'forged.token.value'));
        }
      });
    });
  }
}

describe('the endpoint', () => {
  let server;
  let nova;
  before(async () => { ({ server, nova } = await boardWithNova()); });
  after(async () => { await server?.stop(); });

  test('no token, or a bad one: 401 with the resource metadata, as MCP authorization says', { timeout: 60_000 }, async () => {
    const init = {
      jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    };
    for (const authorization of [undefined, 'Bearer not-a-token']) {
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      if (authorization) headers.authorization = authorization;
      const res = await fetch(`${server.url}/mcp`, { method: 'POST', headers, body: JSON.stringify(init) });
      assert.equal(res.status, 401);
      const challenge = res.headers.get('www-authenticate');
      assert.match(challenge, /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource"/);
      assert.equal(/error="invalid_token"/.test(challenge), Boolean(authorization));
      const metadataUrl = challenge.match(/resource_metadata="([^"]+)"/)[1];
      const metadata = await (await fetch(metadataUrl)).json();
      assert.equal(metadata.resource, `${server.url}/mcp`);
      assert.deepEqual(metadata.bearer_methods_supported, ['header']);
    }
    // A stateless server has no stream to offer and no session to end.
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${server.url}/mcp`, { method, headers: { authorization: `Bearer ${nova}` } });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('allow'), 'POST');
    }
  });

  test('the REST limits hold for /mcp: the body cap, the per-token rate limit, JSON errors for junk', { timeout: 60_000 }, async () => {
    const headers = {
      'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18', authorization: `Bearer ${nova}`,
    };
    const huge = JSON.stringify({
      jsonrpc: '2.0', id: 1, method: 'tools/call',
      params: { name: 'create_task', arguments: { title: 'x', description: 'y'.repeat(2 * 1024 * 1024) } },
    });
    for (const [body, code] of [['not json', -32700], ['[]', -32600], ['{"id":1}', -32600]]) {
      const res = await fetch(`${server.url}/mcp`, { method: 'POST', headers, body });
      assert.equal(res.status, 400, body);
      assert.equal((await res.json()).error.code, code, body);
    }
    const tooLarge = await fetch(`${server.url}/mcp`, { method: 'POST', headers, body: huge });
    assert.equal(tooLarge.status, 413);
    assert.equal((await tooLarge.json()).error.code, 'payload_too_large');

    const limited = await startServer({ env: { RATE_LIMIT_PER_MINUTE: '5' } });
    try {
      const call = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_agents', arguments: {} } });
      const auth = { ...headers, authorization: `Bearer ${limited.token}` };
      const statuses = [];
      for (let i = 0; i < 7; i += 1) {
        statuses.push((await fetch(`${limited.url}/mcp`, { method: 'POST', headers: auth, body: call })).status);
      }
      assert.deepEqual(statuses.slice(0, 4), [200, 200, 200, 200], statuses.join(','));
      assert.equal(statuses.at(-1), 429, statuses.join(','));
    } finally {
      await limited.stop();
    }
  });
});
