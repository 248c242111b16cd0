// Real-time updates, tested with the official socket.io-client against the real server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { io } from 'socket.io-client';
import { startServer, JWT_SECRET } from './lib/server.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });

const EVENTS = ['task.created', 'task.updated', 'task.deleted', 'agent.status_changed', 'event.new'];

/** Connects and resolves once connected (or rejects with the connect_error). */
function connect(options = {}) {
  const socket = io(server.url, { reconnection: false, forceNew: true, ...options });
  const received = [];
  for (const name of EVENTS) socket.on(name, (payload) => received.push({ name, payload }));
  socket.received = received;
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => { socket.close(); reject(err); });
  });
}

/** Resolves when `socket.received` holds at least `count` events, or fails after `ms`. */
async function waitFor(socket, count, ms = 3000) {
  const deadline = Date.now() + ms;
  while (socket.received.length < count) {
    if (Date.now() > deadline) {
      throw new Error(`expected ${count} events, got ${socket.received.length}: ${JSON.stringify(socket.received)}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return socket.received;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('websocket and polling clients receive all five events with the exact payloads', async () => {
  const ws = await connect({ auth: { token: server.token }, transports: ['websocket'] });
  const polling = await connect({ auth: { token: server.token }, transports: ['polling'] });
  assert.equal(ws.io.engine.transport.name, 'websocket');
  assert.equal(polling.io.engine.transport.name, 'polling');
  try {
    await sleep(100);
    const created = await server.request('POST', '/api/tasks', { title: 'Live task', priority: 'high' }, server.token);
    const task = created.body.task;
    const moved = await server.request('PATCH', `/api/tasks/${task.id}`, { status: 'done' }, server.token);
    const agent = await server.request('PATCH', '/api/agents/agent-patch', { status: 'busy' }, server.token);
    await server.request('DELETE', `/api/tasks/${task.id}`, undefined, server.token);
    const log = (await server.request('GET', '/api/events?limit=4', undefined, server.token)).body.events.reverse();

    for (const client of [ws, polling]) {
      const got = await waitFor(client, 8);
      assert.deepEqual(got.map((e) => e.name), [
        'task.created', 'event.new',
        'task.updated', 'event.new',
        'agent.status_changed', 'event.new',
        'task.deleted', 'event.new',
      ]);
      assert.deepEqual(got[0].payload, { task });
      assert.deepEqual(got[2].payload, { task: moved.body.task });
      assert.deepEqual(got[4].payload, { agent: agent.body.agent });
      assert.deepEqual(got[6].payload, { taskId: task.id });
      assert.deepEqual([got[1], got[3], got[5], got[7]].map((e) => e.payload), log.map((event) => ({ event })));
      assert.equal(got[3].payload.event.message, 'Patch moved Live task to done');
    }
    await server.request('PATCH', '/api/agents/agent-patch', { status: 'online' }, server.token);
  } finally {
    ws.close();
    polling.close();
  }
});

test('an unauthenticated socket receives nothing, and a forged token cannot connect', async () => {
  const anonymous = await connect({ transports: ['websocket'] });
  await assert.rejects(connect({ auth: { token: 'forged.token.value' } }), /not valid/);
  const otherKey = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZ2VudC1wYXRjaCIsImp0aSI6IngiLCJpYXQiOjAsImV4cCI6OTk5OTk5OTk5OTl9.c2lnbmVkLXdpdGgtYW5vdGhlci1rZXk';
  await assert.rejects(connect({ auth: { token: otherKey } }), /not valid/);
  try {
    await server.request('POST', '/api/tasks', { title: 'Secret' }, server.token);
    await sleep(300);
    assert.deepEqual(anonymous.received, []);
  } finally {
    anonymous.close();
  }
});

test('the authenticate event signs a socket in, or answers auth_error', async () => {
  const socket = await connect({ transports: ['websocket'] });
  try {
    const refused = new Promise((resolve) => socket.once('auth_error', resolve));
    socket.emit('authenticate', { token: 'garbage' });
    assert.match((await refused).message, /not valid/);

    const accepted = new Promise((resolve) => socket.once('authenticated', resolve));
    socket.emit('authenticate', { token: server.token });
    assert.deepEqual(await accepted, { user: { id: 'agent-patch', name: 'Patch', role: 'Dev' } });

    const created = await server.request('POST', '/api/tasks', { title: 'After authenticate' }, server.token);
    const got = await waitFor(socket, 2);
    assert.deepEqual(got[0], { name: 'task.created', payload: { task: created.body.task } });
  } finally {
    socket.close();
  }
});

/** A JWT signed with `key`, as an attacker who knows or guesses it would make one. */
function jwt(header, claims, key) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${part(header)}.${part(claims)}`;
  const signature = key ? createHmac('sha256', key).update(body).digest('base64url') : '';
  return `${body}.${signature}`;
}

test('hostile tokens are refused in the handshake and by authenticate', async () => {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: 'agent-patch', jti: 'forged', iat: now - 10 };
  const hostile = [
    jwt({ alg: 'none', typ: 'JWT' }, { ...claims, exp: now + 3600 }, null),
    jwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: now - 3600 }, JWT_SECRET),
    jwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: now + 3600 }, JWT_SECRET),
    jwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: now + 3600 }, 'another-key-another-key-another-key'),
    'garbage',
  ];
  for (const token of hostile) {
    await assert.rejects(connect({ auth: { token } }), Error, token);
    const socket = await connect();
    try {
      const refused = new Promise((resolve) => socket.once('auth_error', resolve));
      socket.emit('authenticate', { token });
      assert.ok((await refused).message.length > 0);
    } finally {
      socket.close();
    }
  }
});

test('a revoked token is refused both ways', async () => {
  const login = await server.request('POST', '/api/auth/login', { username: 'patch', password: 'test-password-123' });
  const token = login.body.token;
  await server.request('POST', '/api/auth/logout', undefined, token);
  await assert.rejects(connect({ auth: { token } }), /revoked/);
  const socket = await connect();
  try {
    const refused = new Promise((resolve) => socket.once('auth_error', resolve));
    socket.emit('authenticate', { token });
    assert.match((await refused).message, /revoked/);
  } finally {
    socket.close();
  }
});

test('signing out ends the live connections made with that token', async () => {
  const login = await server.request('POST', '/api/auth/login', { username: 'patch', password: 'test-password-123' });
  const token = login.body.token;
  const viaHandshake = await connect({ auth: { token }, transports: ['websocket'] });
  const viaEvent = await connect({ transports: ['polling'] });
  const other = await connect({ auth: { token: server.token } });
  try {
    const accepted = new Promise((resolve) => viaEvent.once('authenticated', resolve));
    viaEvent.emit('authenticate', { token });
    await accepted;
    const ended = [viaHandshake, viaEvent].map((s) => new Promise((resolve) => s.once('disconnect', resolve)));
    await server.request('POST', '/api/auth/logout', undefined, token);
    assert.deepEqual(await Promise.all(ended), ['io server disconnect', 'io server disconnect']);
    assert.ok(other.connected, 'a socket with another token stays');
  } finally {
    for (const s of [viaHandshake, viaEvent, other]) s.close();
  }
});

test('a socket that never authenticates is disconnected after 10 seconds', async () => {
  const socket = await connect({ transports: ['websocket'] });
  const started = Date.now();
  const reason = await new Promise((resolve) => socket.once('disconnect', resolve));
  const waited = Date.now() - started;
  assert.equal(reason, 'io server disconnect');
  assert.ok(waited > 9000 && waited < 12000, `disconnected after ${waited} ms`);
});

test('100 connected clients all receive one update', async () => {
  const clients = await Promise.all(
    Array.from({ length: 100 }, (_, i) => connect({
      auth: { token: server.token },
      transports: [i % 2 ? 'websocket' : 'polling'],
    })),
  );
  try {
    await sleep(200);
    const created = await server.request('POST', '/api/tasks', { title: 'For everyone' }, server.token);
    await Promise.all(clients.map((c) => waitFor(c, 2, 5000)));
    for (const c of clients) {
      assert.deepEqual(c.received[0], { name: 'task.created', payload: { task: created.body.task } });
    }
  } finally {
    for (const c of clients) c.close();
  }
});

test('after a reconnect, GET /api/events?since= returns what was missed', async () => {
  const socket = await connect({ auth: { token: server.token }, transports: ['websocket'] });
  await server.request('POST', '/api/tasks', { title: 'Seen live' }, server.token);
  const seen = await waitFor(socket, 2);
  const lastSeen = seen.at(-1).payload.event.timestamp;
  socket.close();

  await sleep(5);
  const missed = await server.request('POST', '/api/tasks', { title: 'Missed while away' }, server.token);
  const again = await connect({ auth: { token: server.token } });
  try {
    const catchUp = await server.request('GET', `/api/events?since=${lastSeen}`, undefined, server.token);
    assert.ok(catchUp.body.events.some((e) => e.taskId === missed.body.task.id));
    const tasks = await server.request('GET', '/api/tasks', undefined, server.token);
    assert.ok(tasks.body.tasks.some((t) => t.id === missed.body.task.id));
  } finally {
    again.close();
  }
});
