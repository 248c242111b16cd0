// The plugin package in the real OpenClaw, without a language model: `openclaw plugins install
// --link`, `openclaw plugins inspect --runtime` (OpenClaw's own loader imports the entry and
// runs register()), then a Gateway on a loopback port and its `POST /tools/invoke`, which runs
// `mission_control` exactly as an agent turn would, against the live Mission Control server.
//
// Opt-in, because OpenClaw needs Node >= 24.16 and a ~650 MB install:
//   OPENCLAW_CLI=/path/to/node_modules/openclaw/openclaw.mjs
//   OPENCLAW_NODE=/path/to/node-24 (default: the node running the tests)
// Without OPENCLAW_CLI the test is skipped.
// Known limit (OpenClaw 2026.9.6): with OPENCLAW_CONFIG_PATH set, OpenClaw loads plugins from a
// "source capture" copy that leaves out @bytecodealliance/preview2-shim's
// dist/io/worker-thread.bundle.js (started with `new Worker(new URL(...))`), so the import fails;
// the default config location loads the package in place and works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './lib/server.mjs';

const CLI = process.env.OPENCLAW_CLI;
const NODE = process.env.OPENCLAW_NODE ?? process.execPath;
const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'openclaw-plugin', 'package');
const skip = CLI ? false : 'set OPENCLAW_CLI (and OPENCLAW_NODE, Node >= 24.16) to run OpenClaw itself';

let server;
let stateDir;
let gateway;

function env() {
  return {
    ...process.env,
    OPENCLAW_STATE_DIR: stateDir,
    OPENCLAW_HOME: stateDir,
    NO_COLOR: '1',
  };
}

function openclaw(...args) {
  const r = spawnSync(NODE, [CLI, ...args], { env: env(), encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, `openclaw ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function freePort() {
  const srv = createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

before(async () => {
  if (skip) return;
  server = await startServer();
  stateDir = mkdtempSync(path.join(tmpdir(), 'mc-openclaw-'));
});

after(async () => {
  if (gateway && gateway.exitCode === null) {
    gateway.kill('SIGTERM');
    await new Promise((resolve) => gateway.once('exit', resolve));
  }
  await server?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

test('OpenClaw installs and loads the plugin and runs mission_control through its Gateway', { skip, timeout: 300_000 }, async () => {
  openclaw('plugins', 'install', '--link', packageDir, '--force', '--accept-capabilities');
  openclaw('config', 'set', 'plugins.entries.mission-control.config.url', server.url);
  openclaw('config', 'set', 'plugins.entries.mission-control.config.token', server.token);

  const inspected = JSON.parse(openclaw('plugins', 'inspect', 'mission-control', '--runtime', '--json'));
  assert.equal(inspected.plugin.id, 'mission-control');
  assert.equal(inspected.plugin.status, 'loaded', JSON.stringify(inspected.plugin.error ?? inspected.diagnostics));
  assert.deepEqual(inspected.plugin.toolNames, ['mission_control']);

  const port = await freePort();
  const gatewayToken = 'mission-control-openclaw-test';
  gateway = spawn(NODE, [CLI, 'gateway', 'run', '--port', String(port), '--bind', 'loopback',
    '--auth', 'token', '--token', gatewayToken, '--allow-unconfigured'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  gateway.stdout.on('data', (d) => { log += d; });
  gateway.stderr.on('data', (d) => { log += d; });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway not ready in 120 s:\n${log}`)), 120_000);
    const poll = setInterval(() => {
      if (/\[gateway\]\s+ready/.test(log)) { clearInterval(poll); clearTimeout(timer); resolve(); }
      if (gateway.exitCode !== null) { clearInterval(poll); clearTimeout(timer); reject(new Error(`gateway exited:\n${log}`)); }
    }, 200);
  });

  const invoke = async (args) => {
    const res = await fetch(`http://127.0.0.1:${port}/tools/invoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gatewayToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'mission_control', args }),
    });
    return { status: res.status, body: await res.json() };
  };
  const created = await invoke({ action: 'create_task', title: 'Created through OpenClaw', status: 'todo' });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  assert.equal(created.body.ok, true, JSON.stringify(created.body));
  const task = created.body.result.details.task;
  assert.equal(task.title, 'Created through OpenClaw');

  const listed = await server.request('GET', '/api/tasks', undefined, server.token);
  assert.ok(listed.body.tasks.some((t) => t.id === task.id), 'the task is on the server');

  const moved = await invoke({ action: 'move_task', taskId: task.id, newStatus: 'done' });
  assert.equal(moved.body.result.details.task.status, 'done');
  const bad = await invoke({ action: 'move_task', taskId: task.id, newStatus: 'archived' });
  assert.equal(bad.body.ok, false, 'a bad status is a failed tool call');
});
