// Real-time updates, tested with the official socket.io-client against the real server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { io } from 'socket.io-client';
import { startServer, JWT_SECRET } from './lib/server.mjs';

let server;
// 100 clients of the operator's token at once, past the per-token cap on sockets (32).
before(async () => { server = await startServer({ env: { MAX_SOCKETS_PER_TOKEN: '200' } }); });
after(async () => { await server.stop(); });

const EVENTS = ['task.created', 'task.updated', 'task.deleted', 'agent.status_changed', 'event.new', 'comment.created', 'agent.removed'];

/** The specification's payload, plus the `seq` every event carries beside it. */
const withSeq = (payload, seq) => ({ ...payload, seq });

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
      // One unbroken run of seqs, each event's beside its payload.
      const first = got[0].payload.seq;
      assert.deepEqual(got.map((e) => e.payload.seq), [0, 1, 2, 3, 4, 5, 6, 7].map((n) => first + n));
      assert.deepEqual(got[0].payload, withSeq({ task }, first));
      assert.deepEqual(got[2].payload, withSeq({ task: moved.body.task }, first + 2));
      assert.deepEqual(got[4].payload, withSeq({ agent: agent.body.agent }, first + 4));
      assert.deepEqual(got[6].payload, withSeq({ taskId: task.id }, first + 6));
      assert.deepEqual(
        [got[1], got[3], got[5], got[7]].map((e) => e.payload),
        log.map((event) => withSeq({ event }, event.seq)),
      );
      assert.equal(got[3].payload.event.message, 'Patch moved “Live task” to Done');
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
    assert.deepEqual(got[0], { name: 'task.created', payload: withSeq({ task: created.body.task }, got[0].payload.seq) });
    assert.equal(got[1].payload.seq, got[0].payload.seq + 1);
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
    const seq = clients[0].received[0].payload.seq;
    for (const c of clients) {
      assert.deepEqual(c.received[0], { name: 'task.created', payload: withSeq({ task: created.body.task }, seq) });
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

/**
 * A socket that resumes on every reconnect the way the dashboard does: its handshake `auth` is
 * a function, so each reconnection sends the last seq it saw.
 */
function resumingSocket(token, since) {
  const state = { lastSeq: since, received: [], resumed: [], resync: [] };
  const socket = io(server.url, {
    forceNew: true,
    transports: ['websocket'],
    reconnectionDelay: 50,
    reconnectionDelayMax: 200,
    auth: (cb) => cb({ token, since: state.lastSeq }),
  });
  for (const name of EVENTS) {
    socket.on(name, (payload) => {
      state.received.push({ name, payload });
      state.lastSeq = payload.seq;
    });
  }
  socket.on('resumed', (p) => state.resumed.push(p));
  socket.on('resync_required', (p) => { state.resync.push(p); state.lastSeq = p.latest; });
  return { socket, state };
}

async function until(check, ms = 20000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(10);
  }
}

async function latestSeq() {
  return (await server.request('GET', '/api/tasks?limit=1', undefined, server.token)).body.seq;
}

async function createTasks(count, concurrency = 8) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next += 1;
      const r = await server.request('POST', '/api/tasks', { title: `missed ${next}` }, server.token);
      assert.equal(r.status, 201);
    }
  }));
}

test('a client that drops its connection resumes with since: exactly the 1,000 changes it missed, in order, then live', async () => {
  const since = await latestSeq();
  const { socket, state } = resumingSocket(server.token, since);
  try {
    await until(() => state.resumed.length === 1);
    assert.deepEqual(state.resumed[0], { since, seq: since, replayed: 0 });
    await server.request('POST', '/api/tasks', { title: 'before the drop' }, server.token);
    await until(() => state.received.length === 2);

    // The network drops; 1,000 changes (500 tasks and their feed lines) happen meanwhile.
    const reconnected = new Promise((resolve) => socket.io.once('reconnect', resolve));
    socket.io.engine.close();
    await createTasks(500);
    await reconnected;
    await until(() => state.resumed.length === 2);
    // It resumed while the writes went on: what it missed was replayed, the rest came live.
    const { seq, replayed } = state.resumed[1];
    assert.equal(state.resumed[1].since, since + 2);
    assert.equal(seq, since + 2 + replayed);
    assert.ok(replayed <= 1000, `replayed ${replayed}`);

    await server.request('POST', '/api/tasks', { title: 'live again' }, server.token);
    await until(() => state.received.length === 1004);
    // Exactly every change, once, in order: an unbroken run of seqs.
    assert.deepEqual(
      state.received.map((e) => e.payload.seq),
      Array.from({ length: 1004 }, (_, i) => since + 1 + i),
    );
    const names = state.received.map((e) => e.name);
    assert.deepEqual(names, Array.from({ length: 1004 }, (_, i) => (i % 2 ? 'event.new' : 'task.created')));
    // The feed lines are the event log's rows, seq for seq.
    const log = await server.request('GET', `/api/events?after=${since}&limit=500`, undefined, server.token);
    const fromSocket = state.received.filter((e) => e.name === 'event.new').slice(0, 500);
    assert.deepEqual(fromSocket.map((e) => e.payload), log.body.events.map((event) => withSeq({ event }, event.seq)));
  } finally {
    socket.close();
  }
});

test('a client resuming from a position the log cannot continue is told resync_required, then follows live', async () => {
  const latest = await latestSeq();
  const { socket, state } = resumingSocket(server.token, latest + 500);
  try {
    await until(() => state.resync.length === 1);
    assert.deepEqual(state.resync[0], { since: latest + 500, oldest: 1, latest });
    assert.equal(state.resumed.length, 0, 'resync_required instead of resumed');
    const created = await server.request('POST', '/api/tasks', { title: 'after resync' }, server.token);
    await until(() => state.received.length === 2);
    assert.deepEqual(state.received[0].payload, withSeq({ task: created.body.task }, latest + 1));
  } finally {
    socket.close();
  }
});

test('the authenticate event resumes too, and a bad since is refused', async () => {
  const since = await latestSeq();
  await createTasks(5, 1);
  const socket = await connect({ transports: ['polling'] });
  try {
    const resumed = new Promise((resolve) => socket.once('resumed', resolve));
    socket.emit('authenticate', { token: server.token, since });
    assert.deepEqual(await resumed, { since, seq: since + 10, replayed: 10 });
    assert.deepEqual(socket.received.map((e) => e.payload.seq), Array.from({ length: 10 }, (_, i) => since + 1 + i));
    const refused = new Promise((resolve) => socket.once('auth_error', resolve));
    socket.emit('authenticate', { token: server.token, since: 'yesterday' });
    assert.match((await refused).message, /since must be a seq/);
  } finally {
    socket.close();
  }
  await assert.rejects(connect({ auth: { token: server.token, since: -3 } }), /since must be a seq/);
});
