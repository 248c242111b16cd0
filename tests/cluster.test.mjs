// Several server processes on one PostgreSQL database behind one address: every process
// accepts every request, every change reaches every live client of every process in seq
// order exactly once, claims are never held twice, and faults (a process killed, the database
// restarted, the listening connection killed, a long transaction elsewhere) lose nothing.
// Tested with the official socket.io-client and the SSE stream against real processes.
// Runs when the test command has started a PostgreSQL cluster (MISSION_CONTROL_TEST_POSTGRES).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import {
  postgresUrl, postgresDir, psql, startCluster, haproxyAvailable, startHaproxy,
} from './lib/cluster.mjs';

const skip = postgresUrl ? false : 'needs a PostgreSQL cluster (MISSION_CONTROL_TEST_POSTGRES)';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const EVENTS = ['task.created', 'task.updated', 'task.deleted', 'agent.status_changed', 'event.new', 'comment.created', 'agent.removed'];

async function until(check, ms = 30000, what = 'a condition') {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function call(url, method, urlPath, body, token, headers = {}) {
  const h = { ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  if (token) h.authorization = `Bearer ${token}`;
  const res = await fetch(url + urlPath, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, body: json, headers: res.headers };
}

/** A socket that resumes from the last seq it saw on every reconnect, wherever it lands. */
function listener(urls, token, since) {
  const state = { lastSeq: since, seqs: [], resumed: [], resync: [], urls: [...urls], at: 0 };
  const socket = io(state.urls[0], {
    forceNew: true,
    transports: ['websocket'],
    reconnectionDelay: 50,
    reconnectionDelayMax: 200,
    auth: (cb) => cb({ token, since: state.lastSeq }),
  });
  for (const name of EVENTS) {
    socket.on(name, (payload) => {
      state.seqs.push(payload.seq);
      state.lastSeq = payload.seq;
    });
  }
  socket.on('resumed', (p) => state.resumed.push(p));
  socket.on('resync_required', (p) => state.resync.push(p));
  return { socket, state };
}

/** Reads `GET /api/stream` from `since`, collecting each change's seq. */
function sseReader(url, token, since) {
  const state = { seqs: [], closed: false, error: null };
  const controller = new AbortController();
  (async () => {
    try {
      const res = await fetch(`${url}/api/stream?since=${since}`, {
        headers: { authorization: `Bearer ${token}` }, signal: controller.signal,
      });
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event && EVENTS.includes(event) && data) state.seqs.push(JSON.parse(data).seq);
        }
      }
    } catch (e) {
      if (e.name !== 'AbortError') state.error = e;
    } finally {
      state.closed = true;
    }
  })();
  return { state, close: () => controller.abort() };
}

/** Strictly increasing, no duplicate, and (no revocation having happened) no gap. */
function assertUnbroken(seqs, from, to, who) {
  const expected = [];
  for (let s = from + 1; s <= to; s += 1) expected.push(s);
  assert.deepEqual(seqs, expected, `${who} received ${seqs.length} changes, expected ${from + 1}..${to}`);
}

async function latestSeq(server) {
  return (await server.request('GET', '/api/tasks?limit=1', undefined, server.token)).body.seq;
}

/** Registers `count` agents through the servers in turn; their tokens. */
async function agents(servers, count, prefix) {
  const admin = servers[0];
  const tokens = [];
  for (let i = 0; i < count; i += 1) {
    const id = `agent-${prefix}-${i}`;
    const reg = await admin.request('POST', '/api/agents', { id, name: `${prefix} ${i}`, role: 'Dev' }, admin.token);
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const minted = await admin.request('POST', '/api/auth/tokens', { agentId: id, expiresInDays: 1 }, admin.token);
    assert.equal(minted.status, 201);
    tokens.push(minted.body.token);
  }
  return tokens;
}

test('three processes, one board: every change reaches every live client of every process, in seq order, exactly once', { skip }, async () => {
  const cluster = await startCluster(3);
  const { servers } = cluster;
  const listeners = [];
  const streams = [];
  try {
    const since = await latestSeq(servers[0]);
    for (const s of servers) {
      listeners.push(listener([s.url], s.token, since));
      streams.push(sseReader(s.url, s.token, since));
    }
    await until(() => listeners.every((l) => l.state.resumed.length === 1), 30000, 'every socket to resume');
    // 64 writers spread over the three processes.
    const writes = [];
    for (let w = 0; w < 64; w += 1) {
      const s = servers[w % 3];
      writes.push((async () => {
        for (let i = 0; i < 8; i += 1) {
          const r = await s.request('POST', '/api/tasks', { title: `w${w} t${i}` }, s.token);
          assert.equal(r.status, 201, JSON.stringify(r.body));
        }
      })());
    }
    await Promise.all(writes);
    const last = await latestSeq(servers[1]);
    assert.equal(last - since, 64 * 8 * 2, 'each create logs the task and its feed line');
    await until(() => listeners.every((l) => l.state.lastSeq === last), 30000, 'every socket to catch up');
    await until(() => streams.every((r) => r.state.seqs.at(-1) === last), 30000, 'every stream to catch up');
    listeners.forEach((l, i) => assertUnbroken(l.state.seqs, since, last, `socket on process ${i + 1}`));
    streams.forEach((r, i) => assertUnbroken(r.state.seqs, since, last, `stream on process ${i + 1}`));
  } finally {
    listeners.forEach((l) => l.socket.close());
    streams.forEach((r) => r.close());
    await cluster.stop();
  }
});

test('64 agents racing claim-next over 1,000 tasks through three processes claim each task exactly once', { skip }, async () => {
  // The operator sets the board up with over a thousand requests in a few seconds.
  const cluster = await startCluster(3, { RATE_LIMIT_PER_MINUTE: '100000' });
  const { servers } = cluster;
  try {
    const admin = servers[0];
    for (let batch = 0; batch < 10; batch += 1) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => admin.request(
        'POST', '/api/tasks', { title: `job ${batch * 100 + i}`, status: 'todo' }, admin.token,
      ).then((r) => assert.equal(r.status, 201))));
    }
    const tokens = await agents(servers, 64, 'racer');
    const claimed = [];
    await Promise.all(tokens.map(async (token, i) => {
      const s = servers[i % 3];
      for (;;) {
        const r = await call(s.url, 'POST', '/api/tasks/claim-next', {}, token);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        if (!r.body.task) return;
        claimed.push(r.body.task.id);
      }
    }));
    assert.equal(claimed.length, 1000);
    assert.equal(new Set(claimed).size, 1000, 'no task was claimed twice');
  } finally {
    await cluster.stop();
  }
});

test('kill -9 of one process under write load loses no acknowledged write, and its clients resume on another with nothing missed', { skip }, async () => {
  const cluster = await startCluster(3);
  const [a, b, c] = cluster.servers;
  const since = await latestSeq(a);
  // A client of process A; when A dies it reconnects to B.
  const { socket, state } = listener([a.url], a.token, since);
  try {
    await until(() => state.resumed.length === 1);
    socket.io.uri = b.url;
    const acknowledged = [];
    let stop = false;
    const writers = [a, a, c].map((s) => (async () => {
      let i = 0;
      while (!stop) {
        i += 1;
        try {
          const r = await s.request('POST', '/api/tasks', { title: `under load ${i}` }, s.token);
          if (r.status === 201) acknowledged.push(r.body.task.id);
        } catch { /* the process died mid-request: not acknowledged */ }
      }
    })());
    await until(() => acknowledged.length >= 150);
    a.kill('SIGKILL');
    await sleep(300);
    stop = true;
    await Promise.all(writers);
    for (const id of acknowledged) {
      const r = await b.request('GET', `/api/tasks/${id}`, undefined, b.token);
      assert.equal(r.status, 200, `acknowledged ${id} is there`);
    }
    const last = await latestSeq(b);
    await until(() => state.lastSeq === last, 30000, 'the client to resume on another process');
    assertUnbroken(state.seqs, since, last, 'the client of the killed process');
  } finally {
    socket.close();
    await cluster.stop();
  }
});

test('the listening connection killed from the database side loses no event', { skip }, async () => {
  const cluster = await startCluster(2);
  const [a, b] = cluster.servers;
  const since = await latestSeq(a);
  const { socket, state } = listener([b.url], b.token, since);
  try {
    await until(() => state.resumed.length === 1);
    // Every process's listener in this board's schema... all listeners of the cluster are
    // named alike: kill them all, as a database-side failover would.
    await until(() => Number(psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mission-control-listener'")) >= 2);
    psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mission-control-listener'");
    for (let i = 0; i < 20; i += 1) {
      const r = await a.request('POST', '/api/tasks', { title: `after the kill ${i}` }, a.token);
      assert.equal(r.status, 201);
    }
    const last = await latestSeq(a);
    await until(() => state.lastSeq === last, 30000, 'the changes to reach the other process');
    assertUnbroken(state.seqs, since, last, 'a client of the other process');
    // And the listener came back by itself: a later change still arrives.
    const r = await a.request('POST', '/api/tasks', { title: 'later' }, a.token);
    assert.equal(r.status, 201);
    await until(() => state.lastSeq === last + 2);
  } finally {
    socket.close();
    await cluster.stop();
  }
});

test('a long unrelated transaction elsewhere in the database does not stall live delivery', { skip }, async () => {
  const cluster = await startCluster(2);
  const [a, b] = cluster.servers;
  const since = await latestSeq(a);
  const { socket, state } = listener([b.url], b.token, since);
  // Another application holds a transaction open (with a write, so it has a transaction id)
  // for ten seconds.
  const other = spawn('psql', [postgresUrl, '-X', '-q', '-c',
    'BEGIN; CREATE TEMP TABLE unrelated(x int); INSERT INTO unrelated VALUES (1); SELECT pg_sleep(10); COMMIT;'],
  { stdio: 'ignore' });
  const otherDone = new Promise((r) => other.on('exit', r));
  let otherFinished = false;
  otherDone.then(() => { otherFinished = true; });
  try {
    await until(() => state.resumed.length === 1);
    await sleep(300);
    const r = await a.request('POST', '/api/tasks', { title: 'while another transaction is open' }, a.token);
    assert.equal(r.status, 201);
    await until(() => state.lastSeq === since + 2, 9000, 'delivery while the transaction is open');
    assert.equal(otherFinished, false, 'delivered while the other transaction was still open');
  } finally {
    socket.close();
    other.kill();
    await otherDone;
    await cluster.stop();
  }
});

test('PostgreSQL restarted under load: /health says so, writes answer 503 with Retry-After and change nothing, and all recovers by itself', { skip: skip || (postgresDir ? false : 'needs the cluster folder (MISSION_CONTROL_TEST_POSTGRES_DIR)') }, async () => {
  const cluster = await startCluster(2);
  const [a, b] = cluster.servers;
  const since = await latestSeq(a);
  const { socket, state } = listener([b.url], b.token, since);
  const script = path.join(repoRoot, 'scripts', 'postgres.sh');
  try {
    await until(() => state.resumed.length === 1);
    const before = await a.request('POST', '/api/tasks', { title: 'before the restart' }, a.token);
    assert.equal(before.status, 201);
    execFileSync('bash', [script, 'stop', postgresDir], { stdio: 'ignore' });
    try {
      const health = await a.request('GET', '/health');
      assert.equal(health.status, 503);
      assert.equal(health.body.status, 'degraded');
      const write = await a.request('POST', '/api/tasks', { title: 'while it is down' }, a.token);
      assert.equal(write.status, 503, JSON.stringify(write.body));
      assert.ok(write.headers.get('retry-after'), 'Retry-After is set');
    } finally {
      execFileSync('bash', [script, 'restart', postgresDir], { stdio: 'ignore' });
    }
    await until(async () => (await a.request('GET', '/health')).status === 200, 30000, 'health to recover');
    let after;
    await until(async () => {
      after = await a.request('POST', '/api/tasks', { title: 'after the restart' }, a.token);
      return after.status === 201;
    }, 30000, 'writes to recover');
    const titles = (await b.request('GET', '/api/tasks', undefined, b.token)).body.tasks.map((t) => t.title);
    assert.ok(!titles.includes('while it is down'), 'the refused write changed nothing');
    const last = await latestSeq(b);
    await until(() => state.lastSeq === last, 30000, 'live delivery to recover');
    assertUnbroken(state.seqs, since, last, 'a client of the other process');
  } finally {
    socket.close();
    await cluster.stop();
  }
});

test('behind HAProxy as the README configures it: REST, Socket.io over WebSocket, SSE and MCP through one address', { skip: skip || (haproxyAvailable() ? false : 'haproxy is not installed') }, async () => {
  const cluster = await startCluster(3);
  const proxy = await startHaproxy(cluster.servers);
  const listeners = [];
  try {
    const login = await call(proxy.url, 'POST', '/api/auth/login', { username: 'patch', password: 'test-password-123' });
    assert.equal(login.status, 200);
    const token = login.body.token;
    const since = (await call(proxy.url, 'GET', '/api/tasks?limit=1', undefined, token)).body.seq;
    // Several sockets through the proxy land on different processes, without stickiness.
    for (let i = 0; i < 3; i += 1) listeners.push(listener([proxy.url], token, since));
    const stream = sseReader(proxy.url, token, since);
    await until(() => listeners.every((l) => l.state.resumed.length === 1));
    for (let i = 0; i < 9; i += 1) {
      const r = await call(proxy.url, 'POST', '/api/tasks', { title: `through the proxy ${i}` }, token);
      assert.equal(r.status, 201);
    }
    const mcp = await call(proxy.url, 'POST', '/mcp', {
      jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'create_task', arguments: { title: 'by MCP' } },
    }, token, { accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' });
    assert.equal(mcp.status, 200, JSON.stringify(mcp.body));
    assert.equal(mcp.body.result.isError ?? false, false, JSON.stringify(mcp.body));
    const last = (await call(proxy.url, 'GET', '/api/tasks?limit=1', undefined, token)).body.seq;
    assert.equal(last - since, 20);
    await until(() => listeners.every((l) => l.state.lastSeq === last));
    await until(() => stream.state.seqs.at(-1) === last);
    listeners.forEach((l, i) => assertUnbroken(l.state.seqs, since, last, `socket ${i + 1} through the proxy`));
    assertUnbroken(stream.state.seqs, since, last, 'the stream through the proxy');
    stream.close();
  } finally {
    listeners.forEach((l) => l.socket.close());
    await proxy.stop();
    await cluster.stop();
  }
});

test('processes started at the same moment migrate the board once, and share its generated admin password', { skip }, async () => {
  // No ADMIN_PASSWORD: the first process generates one and keeps its hash in the database.
  const cluster = await startCluster(3, { ADMIN_PASSWORD: '' }, { together: true }).catch((e) => {
    throw new Error(`processes starting together: ${e.message}`);
  });
  try {
    const rows = psql(`SELECT version || ':' || count(*) FROM ${cluster.schema}.schema_migrations GROUP BY version ORDER BY version`);
    for (const row of rows.split('\n')) assert.match(row, /:1$/, `each migration applied once: ${rows}`);
    await until(() => cluster.servers.some((s) => /with password /.test(s.stdout)));
    await sleep(200);
    const printed = cluster.servers.map((s) => s.stdout.match(/with password (\S+)/)?.[1]).filter(Boolean);
    assert.equal(printed.length, 1, 'one process generated the password and showed it');
    for (const s of cluster.servers) {
      const r = await call(s.url, 'POST', '/api/auth/login', { username: 'patch', password: printed[0] });
      assert.equal(r.status, 200, `every process accepts it: ${s.url}`);
    }
  } finally {
    await cluster.stop();
  }
});

test('state that lived in one process works across them: revocation, presence, the clock, safe retries', { skip }, async () => {
  const cluster = await startCluster(2, { AGENT_OFFLINE_AFTER: '8s' });
  const [a, b] = cluster.servers;
  const sockets = [];
  try {
    const [nova] = await agents(cluster.servers, 1, 'nova');
    // A retry through the other process answers the first answer.
    const key = { 'idempotency-key': 'across-processes-1' };
    const first = await call(a.url, 'POST', '/api/tasks', { title: 'once' }, nova, key);
    const retry = await call(b.url, 'POST', '/api/tasks', { title: 'once' }, nova, key);
    assert.equal(first.status, 201);
    assert.deepEqual(retry.body, first.body);
    const other = await call(b.url, 'POST', '/api/tasks', { title: 'other' }, nova, key);
    assert.equal(other.status, 422);

    // Presence: Nova holds a socket on B only and says nothing for longer than it takes to go
    // offline; A's view (and the leader's sweep, wherever it runs) keeps it online.
    const { socket } = listener([b.url], nova, await latestSeq(a));
    sockets.push(socket);
    await sleep(12000);
    const seen = (await a.request('GET', '/api/agents/agent-nova-0', undefined, a.token)).body.agent;
    assert.notEqual(seen.status, 'offline', 'online while its socket on the other process is open');

    // Revoked through A: its socket on B ends, and B refuses the token.
    const ended = new Promise((r) => socket.once('disconnect', r));
    const tokens = (await a.request('GET', '/api/agents/agent-nova-0/tokens', undefined, a.token)).body.tokens;
    for (const t of tokens) {
      const r = await a.request('DELETE', `/api/agents/agent-nova-0/tokens/${t.id}`, undefined, a.token);
      assert.equal(r.status, 200);
    }
    await ended;
    const refused = await call(b.url, 'GET', '/api/tasks?limit=1', undefined, nova);
    assert.equal(refused.status, 401);

    // The clock: the process leading it dies; a claim made through the other still runs out.
    const task = (await b.request('POST', '/api/tasks', { title: 'short lease', status: 'todo' }, b.token)).body.task;
    const claim = await b.request('POST', `/api/tasks/${task.id}/claim`, { leaseSeconds: 5 }, b.token);
    assert.equal(claim.status, 200);
    a.kill('SIGKILL');
    await until(async () => (await b.request('GET', `/api/tasks/${task.id}`, undefined, b.token)).body.task.status === 'todo',
      30000, 'the lease to run out under the new leader');
  } finally {
    sockets.forEach((s) => s.close());
    await cluster.stop();
  }
});
