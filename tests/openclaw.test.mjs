// The plugin package in real OpenClaw 2026.9.6 on Node 24 (both installed from npm by the test,
// cached in ~/.cache/mission-control/openclaw/), without a language model:
//
// - 5 fresh users each install the packed plugin (`openclaw plugins install npm-pack:...`) and
//   ask OpenClaw's loader about it (`plugins inspect --runtime`): loaded, with the tool, every
//   time, and nothing installed but the package's runtime files.
// - The install section of openclaw-plugin/README.md runs as written for a sixth fresh user:
//   install, configure (the token in OpenClaw's secret store), start the Gateway, first call.
// - The README's `openclaw mcp set` line, for a seventh: openclaw.json keeps a reference to the
//   token, and `openclaw mcp probe` reaches the board's MCP endpoint with it.
// - Through that Gateway's `POST /tools/invoke`, as an agent turn would call the tool:
//   create / move / update / list (each checked over REST), input errors naming the field, a
//   stale version as a failed result naming the version to retry with, a config change applied
//   live, a server that never answers (the Gateway's /healthz keeps
//   answering, the call ends in a timeout), and a caller that goes away (the request to the
//   server is cancelled).
//
// Needs the built package (npm run --prefix openclaw-plugin/package build) and the server
// binary; the first run downloads Node 24 (~30 MB) and OpenClaw (~650 MB).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, serverBinary, JWT_SECRET } from './lib/server.mjs';
import {
  commandPath, freePort, freshEnv, inParallel, openclawInstall, openclawOk, packPlugin, packageDir, repoRoot, waitFor,
} from './lib/openclaw.mjs';

const CYCLES = 5;
const tool = JSON.parse(readFileSync(path.join(packageDir, 'dist', 'tool.json'), 'utf8'));

let workDir;
let packed;

before(() => {
  openclawInstall();
  workDir = mkdtempSync(path.join(tmpdir(), 'mc-openclaw-'));
  packed = packPlugin(workDir);
});

after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Every file under `dir`, relative, without the `node_modules/openclaw` link OpenClaw adds. */
function filesUnder(dir, prefix = '') {
  return readdirSync(dir).flatMap((name) => {
    const rel = prefix ? `${prefix}/${name}` : name;
    if (rel === 'node_modules/openclaw' && lstatSync(path.join(dir, name)).isSymbolicLink()) return [];
    if (rel === 'node_modules' && readdirSync(path.join(dir, name)).every((n) => n === 'openclaw')) {
      return filesUnder(path.join(dir, name), rel);
    }
    return lstatSync(path.join(dir, name)).isDirectory() ? filesUnder(path.join(dir, name), rel) : [rel];
  }).sort();
}

test(`${CYCLES} fresh installs of the packed plugin: OpenClaw's loader reports the tool every time`, { timeout: 900_000 }, async () => {
  const skill = readFileSync(path.join(repoRoot, 'skills', 'mission-control', 'SKILL.md'), 'utf8');
  const outcomes = await inParallel(Array.from({ length: CYCLES }, (_, i) => i), 2, async (i) => {
    const home = path.join(workDir, `cycle-${i + 1}`);
    mkdirSync(home);
    try {
      const installed = await openclawOk(home, ['plugins', 'install', `npm-pack:${packed.tarball}`, '--force', '--accept-capabilities']);
      assert.match(installed, /Installed plugin: mission-control/);
      assert.doesNotMatch(installed, /differs from npm package name/);
      const inspected = JSON.parse(await openclawOk(home, ['plugins', 'inspect', 'mission-control', '--runtime', '--json']));
      const { plugin } = inspected;
      assert.equal(plugin.id, 'mission-control');
      assert.equal(plugin.status, 'loaded', JSON.stringify(plugin.error ?? inspected.diagnostics));
      assert.deepEqual(plugin.toolNames, [tool.name]);
      assert.deepEqual(inspected.diagnostics.filter((d) => d.level === 'error'), []);
      assert.equal(inspected.install.artifactKind, 'npm-pack');
      // Exactly the packed runtime files, the skill among them, as the repository has it.
      assert.deepEqual(filesUnder(plugin.rootDir), packed.files);
      assert.equal(readFileSync(path.join(plugin.rootDir, 'skills', 'mission-control', 'SKILL.md'), 'utf8'), skill);
      return null;
    } catch (err) {
      return `cycle ${i + 1}: ${err.message}`;
    }
  });
  assert.deepEqual(outcomes.filter(Boolean), [], `${outcomes.filter(Boolean).length} of ${CYCLES} cycles failed`);
});

/** The bash block that follows `marker` in the README at `file`, without its indentation. */
function bashBlockAfter(file, marker) {
  const text = readFileSync(path.join(repoRoot, file), 'utf8');
  const at = text.indexOf(marker);
  assert.ok(at > 0, `${file} marks the block this test runs`);
  const open = text.indexOf('```bash\n', at);
  const indent = text.slice(text.lastIndexOf('\n', open) + 1, open);
  const start = open + '```bash\n'.length;
  const end = text.indexOf(`\n${indent}\`\`\``, start);
  return text.slice(start, end).split('\n').map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join('\n');
}

/** The install block of openclaw-plugin/README.md; the repository README carries the same. */
function readmeInstallBlock() {
  const block = bashBlockAfter('openclaw-plugin/README.md', '<!-- tests/openclaw.test.mjs runs the next block');
  assert.equal(bashBlockAfter('README.md', '<!-- the same block as in openclaw-plugin/README.md'), block,
    'README.md and openclaw-plugin/README.md show the same install block');
  return block;
}

test('the README\'s `openclaw mcp set` line: the token stays out of openclaw.json, and OpenClaw reaches the board with it', { timeout: 120_000 }, async () => {
  const server = await startServer();
  try {
    const agent = await server.request('POST', '/api/agents', { id: 'agent-nova', name: 'Nova', role: 'Research' }, server.token);
    assert.equal(agent.status, 201, JSON.stringify(agent.body));
    const minted = await server.request('POST', '/api/auth/tokens', { agentId: 'agent-nova' }, server.token);
    assert.equal(minted.status, 201, JSON.stringify(minted.body));
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const line = readme.split('\n').find((l) => l.startsWith('openclaw mcp set mission-control '));
    assert.ok(line?.includes('http://localhost:3002/mcp'), 'the README has the line, for the default address');
    const home = path.join(workDir, 'mcp-set');
    mkdirSync(home);
    // As the README has it: the token exported in the shell that runs the line.
    const env = freshEnv(home, {
      PATH: commandPath(path.join(workDir, 'bin-mcp-set')),
      MISSION_CONTROL_TOKEN: minted.body.token,
    });
    await new Promise((resolve, reject) => {
      const child = spawn('bash', ['-e', '-c', line.replace('http://localhost:3002', server.url)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d) => { output += d; });
      child.stderr.on('data', (d) => { output += d; });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the line exited ${code}:\n${output}`))));
    });
    const config = readFileSync(path.join(home, '.openclaw', 'openclaw.json'), 'utf8');
    assert.ok(!config.includes(minted.body.token) && !/eyJ[\w-]+\.[\w-]+\.[\w-]+/.test(config), 'no token in openclaw.json');
    const entry = JSON.parse(config).mcp.servers['mission-control'];
    assert.deepEqual(entry, {
      url: `${server.url}/mcp`, transport: 'streamable-http', headers: { Authorization: 'Bearer ${MISSION_CONTROL_TOKEN}' },
    });
    // OpenClaw fills the header in from the environment of the process that reads the config.
    const probe = JSON.parse(await openclawOk(home, ['mcp', 'probe', 'mission-control', '--json'], { env }));
    assert.equal(probe.servers['mission-control']?.tools, 16, JSON.stringify(probe.diagnostics));
    assert.equal(probe.servers['mission-control'].resources, true);
  } finally {
    await server.stop();
  }
});

/** A server that reads each request and never answers; `closedAt()` resolves when a caller's connection closes. */
async function silentServer() {
  const sockets = new Set();
  const arrivals = [];
  const server = createServer((req) => {
    const arrival = { at: Date.now() };
    arrival.closed = new Promise((resolve) => req.socket.once('close', () => resolve(Date.now())));
    arrivals.push(arrival);
  });
  server.on('connection', (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    arrivals,
    close: () => { for (const s of sockets) s.destroy(); return new Promise((resolve) => server.close(resolve)); },
  };
}

describe('the README\'s install, then the tool through the Gateway', () => {
  let server;
  let home;
  let gateway;
  let gatewayUrl;
  let gatewayToken;
  let readmeOutput;

  before(async () => {
    server = await startServer();
    home = path.join(workDir, 'readme');
    mkdirSync(home);
    const port = await freePort();
    gatewayUrl = `http://127.0.0.1:${port}`;
    const block = readmeInstallBlock();
    // The README's placeholders, each of which must be there, replaced by this run's own.
    const substitutions = [
      ['/tmp/mission-control-mission-control-0.1.0.tgz', packed.tarball],
      ['http://localhost:3002', server.url],
      ['18789', String(port)],
      ['/tmp/openclaw-gateway.log', path.join(home, 'gateway.log')],
    ];
    let script = block;
    for (const [from, to] of substitutions) {
      assert.ok(script.includes(from), `the README block mentions ${from}`);
      script = script.replaceAll(from, to);
    }
    script += `\nprintf '%s' "$OPENCLAW_GATEWAY_TOKEN" > "$HOME/gateway-token"\n`;
    const PATH = commandPath(path.join(workDir, 'bin'), { 'mission-control-server': serverBinary() });
    // The Mission Control side of `mission-control-server token`: the test server's database.
    const env = freshEnv(home, {
      PATH,
      DATABASE_PATH: path.join(server.dataDir, 'mission-control.db'),
      JWT_SECRET,
      RUST_LOG: 'error',
    });
    // Its own process group: the Gateway it starts in the background is stopped with it.
    // `-x` with a clock in the prompt (bash takes no PS4 from the environment when run as
    // root): each command's start time, for the report below.
    script = `PS4='+ [$(date +%s%3N)] '\nset -x\n${script}`;
    gateway = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], { env, cwd: home, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let trace = '';
    gateway.stdout.on('data', (d) => { output += d; });
    gateway.stderr.on('data', (d) => { trace += d; });
    const code = await new Promise((resolve) => {
      const timer = setTimeout(() => { output += '\n[the README block took over 300 s]'; resolve(null); }, 300_000);
      gateway.on('exit', (c) => { clearTimeout(timer); resolve(c); });
    });
    readmeOutput = { code, output, trace, finishedAt: Date.now() };
    if (code === 0) gatewayToken = readFileSync(path.join(home, 'gateway-token'), 'utf8');
  });

  after(async () => {
    if (gateway?.pid) {
      try { process.kill(-gateway.pid, 'SIGTERM'); } catch { /* already gone */ }
      await waitFor('the Gateway to stop', async () => !(await fetch(`${gatewayUrl}/healthz`).then(() => true, () => false)), { timeout: 30_000 })
        .catch(() => { try { process.kill(-gateway.pid, 'SIGKILL'); } catch { /* gone */ } });
    }
    await server?.stop();
  });

  const gatewayLog = () => readFileSync(path.join(home, 'gateway.log'), 'utf8');

  async function invoke(args, { signal } = {}) {
    const res = await fetch(`${gatewayUrl}/tools/invoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gatewayToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tool: tool.name, args }),
      signal,
    });
    return { status: res.status, body: await res.json() };
  }

  test('the README\'s commands install, configure, start the Gateway and make the first call, as written', { timeout: 120_000 }, async (t) => {
    // How long each command took (the time to the next traced command).
    const steps = [...readmeOutput.trace.matchAll(/^\++ \[(\d+)\] (.*)$/gm)].filter((m) => !m[0].startsWith('++'));
    steps.forEach((m, i) => {
      const end = i + 1 < steps.length ? Number(steps[i + 1][1]) : readmeOutput.finishedAt;
      t.diagnostic(`${((end - Number(m[1])) / 1000).toFixed(1).padStart(6)} s  ${m[2].slice(0, 110)}`);
    });
    assert.equal(readmeOutput.code, 0, `the README block failed:\n${readmeOutput.output}\n${readmeOutput.trace}\n--- gateway log ---\n${(() => { try { return gatewayLog(); } catch { return ''; } })()}`);
    const first = JSON.parse(readmeOutput.output.trim().split('\n').pop());
    assert.equal(first.ok, true, JSON.stringify(first));
    assert.equal(first.result.details.ok, true);
    assert.ok(Array.isArray(first.result.details.tasks));

    // The token lives in OpenClaw's secret store; openclaw.json holds a reference only.
    const config = readFileSync(path.join(home, '.openclaw', 'openclaw.json'), 'utf8');
    const tokens = (await server.request('GET', '/api/agents', undefined, server.token)).body;
    assert.ok(tokens.agents.some((a) => a.id === 'agent-nova'), 'the README registered agent-nova');
    assert.ok(!/eyJ[\w-]+\.[\w-]+\.[\w-]+/.test(config), 'no JWT in openclaw.json');
    const entry = JSON.parse(config).plugins.entries['mission-control'];
    assert.deepEqual(entry.config.token, { source: 'store', provider: 'default', id: 'MISSION_CONTROL_TOKEN' });

    // The skill the plugin ships, usable with the same token.
    const skills = JSON.parse(await openclawOk(home, ['skills', 'list', '--json']));
    const skill = skills.skills.find((s) => s.name === 'mission-control');
    assert.ok(skill, 'OpenClaw lists the plugin\'s mission-control skill');
    assert.equal(skill.eligible, true, JSON.stringify(skill.missing));
  });

  // One row per action, run in order through the Gateway; adding an action is one more row.
  // `server`: fields the task must have on the server afterwards (GET /api/tasks/:id).
  const FLOW = [
    { action: 'create_task', args: () => ({ title: 'Written through OpenClaw', status: 'todo' }), server: { status: 'todo', createdBy: 'agent-nova' } },
    { action: 'claim', args: (id) => ({ taskId: id }), server: { status: 'in-progress', assignedAgent: 'agent-nova' } },
    { action: 'update_task', args: (id) => ({ taskId: id, priority: 'critical', tags: ['openclaw'] }), server: { priority: 'critical', tags: ['openclaw'] } },
    { action: 'list_tasks', args: () => ({ status: 'in-progress' }), lists: true },
    { action: 'move_task', args: (id) => ({ taskId: id, newStatus: 'done' }), server: { status: 'done', leaseExpiresAt: null } },
  ];

  test(`${FLOW.map((s) => s.action).join(', ')} through POST /tools/invoke, as the agent`, { timeout: 60_000 }, async () => {
    assert.ok(gatewayToken, 'the Gateway is up');
    const actions = tool.parameters.properties.action.enum;
    let taskId;
    for (const step of FLOW) {
      assert.ok(actions.includes(step.action), `the component offers ${step.action}`);
      const { status, body } = await invoke({ action: step.action, ...step.args(taskId) });
      assert.equal(status, 200, `${step.action}: ${JSON.stringify(body)}`);
      assert.equal(body.ok, true);
      const { details } = body.result;
      assert.equal(details.ok, true, `${step.action}: ${JSON.stringify(details)}`);
      assert.equal(body.result.content[0].type, 'text');
      taskId ??= details.task?.id;
      if (step.server) {
        const stored = await server.request('GET', `/api/tasks/${taskId}`, undefined, server.token);
        assert.equal(stored.status, 200);
        for (const [key, value] of Object.entries(step.server)) assert.deepEqual(stored.body.task[key], value, `${step.action}: ${key}`);
        assert.deepEqual(details.task, stored.body.task, `${step.action} answers the task as stored`);
      }
      if (step.lists) assert.ok(details.tasks.some((t) => t.id === taskId), `${step.action} lists the task`);
    }
  });

  test('argument errors reach the caller as input errors (HTTP 400) naming the field', { timeout: 60_000 }, async () => {
    const bad = await invoke({ action: 'move_task', taskId: 'task-1', newStatus: 'archived' });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.equal(bad.body.ok, false);
    assert.match(bad.body.error.message, /"newStatus".*archived/);
    const missing = await invoke({ action: 'create_task' });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error.message, /"title"/);
    const unknown = await invoke({ action: 'get_task', taskId: 'task-00000000-0000-7000-8000-000000000000' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error.message, /^Not found/);
  });

  test('a stale version is a failed result that names the version to retry with', { timeout: 60_000 }, async () => {
    assert.ok(gatewayToken, 'the Gateway is up');
    const { task } = (await invoke({ action: 'create_task', title: 'Versioned through OpenClaw' })).body.result.details;
    const moved = (await invoke({ action: 'move_task', taskId: task.id, newStatus: 'todo', version: task.version })).body.result.details;
    assert.equal(moved.ok, true, JSON.stringify(moved));
    const stale = await invoke({ action: 'update_task', taskId: task.id, title: 'Overwrite', version: task.version });
    assert.equal(stale.status, 200, JSON.stringify(stale.body));
    const { details } = stale.body.result;
    assert.equal(details.ok, false);
    assert.equal(details.error.code, 'task-changed');
    assert.equal(details.currentVersion, moved.task.version);
    assert.match(stale.body.result.content[0].text, new RegExp(`retry with version ${moved.task.version}`));
    const stored = await server.request('GET', `/api/tasks/${task.id}`, undefined, server.token);
    assert.equal(stored.body.task.title, 'Versioned through OpenClaw');
  });

  describe('against a server that never answers', () => {
    let silent;

    before(async () => {
      silent = await silentServer();
      // A live config change: the Gateway reloads the plugin with the new URL and limits.
      const reloads = () => (gatewayLog().match(/config hot reload applied/g) ?? []).length;
      const before = reloads();
      await openclawOk(home, ['config', 'set', '--batch-json', JSON.stringify([
        { path: 'plugins.entries.mission-control.config.url', value: silent.url },
        { path: 'plugins.entries.mission-control.config.connectTimeoutMs', value: 1000 },
        { path: 'plugins.entries.mission-control.config.firstByteTimeoutMs', value: 2000 },
      ])]);
      await waitFor('the Gateway to apply the config change', async () => reloads() > before, { timeout: 60_000 });
      await waitFor('the Gateway to be ready', async () => (await fetch(`${gatewayUrl}/readyz`)).ok, { timeout: 60_000 });
    });

    after(() => silent?.close());

    test('the Gateway keeps answering /healthz during the call, which ends in a timeout', { timeout: 60_000 }, async () => {
      const call = invoke({ action: 'list_tasks' });
      let settled = false;
      call.finally(() => { settled = true; }).catch(() => {});
      const probes = [];
      while (!settled) {
        const started = Date.now();
        const res = await fetch(`${gatewayUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
        probes.push({ ok: res.ok, ms: Date.now() - started });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const { status, body } = await call;
      assert.equal(status, 200, JSON.stringify(body));
      const { details } = body.result;
      assert.equal(details.ok, false);
      assert.equal(details.timedOut, true, JSON.stringify(details));
      assert.equal(details.timeoutMs, 3000);
      assert.equal(details.error.code, 'timed-out');
      assert.match(body.result.content[0].text, /did not answer within 3 s/);
      assert.ok(silent.arrivals.length >= 1, 'the request reached the server');
      assert.ok(probes.length >= 10 && probes.every((p) => p.ok), `healthz during the call: ${JSON.stringify(probes)}`);
    });

    test('a caller that goes away cancels the call and its request to the server', { timeout: 60_000 }, async () => {
      const seen = silent.arrivals.length;
      const controller = new AbortController();
      const call = invoke({ action: 'list_tasks' }, { signal: controller.signal });
      const arrival = await waitFor('the request at the server', async () => silent.arrivals[seen], { timeout: 10_000, interval: 20 });
      controller.abort();
      await assert.rejects(call, { name: 'AbortError' });
      const closedAt = await arrival.closed;
      // Well before the 3 s deadline would have closed it.
      assert.ok(closedAt - arrival.at < 2500, `the request was closed ${closedAt - arrival.at} ms after it arrived`);
    });
  });
});
