#!/usr/bin/env node
// The event-loop figure: the longest gap between 10 ms timers while a `mission_control` call
// waits 1 s for its answer. The built plugin is loaded as OpenClaw loads it (import, register,
// execute); the server runs in another process and answers `list_tasks` with 200 tasks after
// 1 s. A blocked event loop shows a gap of the whole call; a free one, about the timer period.
//
//   node openclaw-plugin/package/bench/event-loop.mjs [--calls N] [--delay MS]
//
// Needs the built package (npm run build) and Node 24; under an older Node it runs itself
// under Node 24 from npm (scripts/openclaw-env.mjs).

import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const here = fileURLToPath(import.meta.url);
const packageDir = path.resolve(path.dirname(here), '..');

if (typeof WebAssembly.Suspending !== 'function') {
  const { ensureNode } = await import('../scripts/openclaw-env.mjs');
  const r = spawnSync(ensureNode(), [here, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const CALLS = arg('--calls', 10);
const DELAY_MS = arg('--delay', 1000);
const PERIOD_MS = 10;

// The slow server, in its own process so that its work does not count against this loop.
const serverCode = `
  const http = require('node:http');
  const now = Date.now();
  const tasks = Array.from({ length: 200 }, (_, i) => ({
    id: 'task-0192f1a0-0000-7000-8000-' + String(i).padStart(12, '0'), title: 'Task ' + i + ' of the benchmark board',
    description: 'A description of realistic length for task ' + i + ', written by an agent.', status: 'todo',
    assignedAgent: 'agent-nova', priority: 'medium', createdAt: now, updatedAt: now, createdBy: 'agent-nova', tags: ['bench', 'load'] }));
  const body = JSON.stringify({ tasks });
  http.createServer((req, res) => setTimeout(() => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }, ${DELAY_MS})).listen(0, '127.0.0.1', function () { console.log('http://127.0.0.1:' + this.address().port); });
`;
const server = spawn(process.execPath, ['-e', serverCode], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  server.stdout.once('data', (d) => resolve(String(d).trim()));
  server.once('exit', (code) => reject(new Error(`the slow server exited (${code})`)));
});

const { default: plugin } = await import(pathToFileURL(path.join(packageDir, 'index.js')).href);
const tools = [];
plugin.register({ id: plugin.id, pluginConfig: { url, token: 'bench' }, registerTool: (tool) => tools.push(tool), logger: console });
const [tool] = tools;

/** One call: its duration and the longest gap between consecutive 10 ms timer callbacks. */
async function measure(call = () => tool.execute('bench', { action: 'list_tasks' })) {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, PERIOD_MS);
  const started = performance.now();
  const result = await call();
  const ms = performance.now() - started;
  clearInterval(timer);
  longest = Math.max(longest, performance.now() - last);
  if (result.details && (!result.details.ok || result.details.tasks.length !== 200)) {
    throw new Error(`unexpected answer: ${result.content[0].text}`);
  }
  return { ms, longest };
}

const summary = (runs) => {
  const gaps = runs.map((m) => m.longest).sort((a, b) => a - b);
  return { max: gaps.at(-1), median: gaps[Math.floor(gaps.length / 2)] };
};

try {
  // The same wait with a plain fetch() of the same answer: what the machine's own noise costs.
  const baseline = [];
  for (let i = 0; i < CALLS; i += 1) baseline.push(await measure(() => fetch(url).then((r) => r.json())));
  const first = await measure();
  const next = [];
  for (let i = 0; i < CALLS; i += 1) next.push(await measure());
  const ours = summary(next);
  const base = summary(baseline);
  const f = (ms) => `${ms.toFixed(1)} ms`;
  console.log(`event loop during a ${DELAY_MS} ms mission_control call (Node ${process.versions.node}, ${PERIOD_MS} ms timers, 200-task answer)`);
  console.log(`  first call (loads the runtime, compiles the component): longest gap ${f(first.longest)}, call ${f(first.ms)}`);
  console.log(`  next ${CALLS} calls: longest gap ${f(ours.max)} (median ${f(ours.median)}), calls ${f(Math.min(...next.map((m) => m.ms)))}-${f(Math.max(...next.map((m) => m.ms)))}`);
  console.log(`  plain fetch() of the same answer, ${CALLS} times: longest gap ${f(base.max)} (median ${f(base.median)})`);
} finally {
  server.kill();
}
