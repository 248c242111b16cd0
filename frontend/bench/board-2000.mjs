#!/usr/bin/env node
// Benchmark (not a test): how long the dashboard takes to show 2,000 tasks, and how much
// JavaScript (gzipped) the first page loads. Starts the real server with a fresh database,
// creates the tasks over REST, then opens the dashboard in headless Chromium.
//
//   npm --prefix frontend run build && node frontend/bench/board-2000.mjs [--tasks 2000] [--runs 3]
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../tests/lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const dist = path.join(repoRoot, 'frontend', 'dist');
const require = createRequire(path.join(repoRoot, 'tests', 'package.json'));
const { chromium } = require('playwright-core');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const TASKS = arg('tasks', 2000);
const RUNS = arg('runs', 3);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

if (!existsSync(path.join(dist, 'index.html'))) {
  console.error('Build the dashboard first: npm --prefix frontend run build');
  process.exit(1);
}

const server = await startServer({ env: { RATE_LIMIT_PER_MINUTE: '1000000' } });
let browser;
try {
  // A few agents so cards carry assignees and avatars, like a real board.
  const agents = [
    ['agent-nova', 'Nova', 'Research', '#10b981'],
    ['agent-bolt', 'Bolt', 'Ops', '#f59e0b'],
    ['agent-iris', 'Iris', 'Main', '#ec4899'],
  ];
  for (const [id, name, role, avatarColor] of agents) {
    const r = await server.request('POST', '/api/agents', { id, name, role, avatarColor }, server.token);
    if (r.status !== 201) throw new Error(`POST /api/agents: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const statuses = ['backlog', 'todo', 'in-progress', 'done'];
  const priorities = ['low', 'medium', 'high', 'critical', null];
  const tags = ['backend', 'frontend', 'docs', 'bug', 'research', 'ops'];
  const t0 = Date.now();
  let next = 0;
  async function worker() {
    while (next < TASKS) {
      const i = next++;
      const body = {
        title: `Task ${i + 1}: ${['Investigate', 'Implement', 'Review', 'Document', 'Deploy'][i % 5]} ${tags[i % tags.length]} item`,
        status: statuses[i % 4],
        tags: [tags[i % tags.length], tags[(i * 7) % tags.length]].filter((t, j, a) => a.indexOf(t) === j),
      };
      const p = priorities[i % priorities.length];
      if (p) body.priority = p;
      if (i % 3 !== 0) body.assignedAgent = agents[i % agents.length][0];
      const r = await server.request('POST', '/api/tasks', body, server.token);
      if (r.status !== 201) throw new Error(`POST /api/tasks: ${r.status} ${JSON.stringify(r.body)}`);
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker));
  const createMs = Date.now() - t0;
  console.log(`created ${TASKS} tasks over REST in ${createMs} ms (${Math.round(TASKS / (createMs / 1000))} tasks/s, 8 concurrent clients)`);

  const g0 = Date.now();
  const list = await server.request('GET', '/api/tasks', undefined, server.token);
  console.log(`GET /api/tasks with ${list.body.tasks.length} tasks: ${Date.now() - g0} ms from Node`);

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const user = { id: 'agent-patch', name: 'Patch', role: 'Dev' };
  const results = [];
  let scripts = [];
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    // Signed in already (token in localStorage), so the number is the board's, not the login form's.
    await context.addInitScript(([token, u]) => {
      localStorage.setItem('mc.token', token);
      localStorage.setItem('mc.user', u);
    }, [server.token, JSON.stringify(user)]);
    const page = await context.newPage();
    const loaded = [];
    page.on('response', (res) => {
      if (res.request().resourceType() === 'script') loaded.push({ path: new URL(res.url()).pathname, encoding: res.headers()['content-encoding'] ?? 'identity', res });
    });
    const start = Date.now();
    await page.goto(server.url);
    const inPage = await page.waitForFunction(
      (n) => (document.querySelectorAll('[data-testid="task-card"]').length >= n ? performance.now() : false),
      TASKS,
      { polling: 'raf', timeout: 60_000 },
    );
    const sinceNav = await inPage.jsonValue();
    const wall = Date.now() - start;
    const shown = await page.locator('[data-testid="task-card"]').count();
    results.push({ wall, sinceNav });
    console.log(`run ${run + 1}: ${shown} cards on the board ${Math.round(sinceNav)} ms after navigation start (${wall} ms wall clock from goto)`);
    if (run === 0) {
      scripts = [...new Set(loaded.map((l) => l.path))];
      let wire = 0;
      for (const l of loaded) wire += (await l.res.request().sizes()).responseBodySize;
      console.log(`first page JS over the wire from this server: ${wire} bytes (content-encoding: ${[...new Set(loaded.map((l) => l.encoding))].join(', ')})`);
    }
    await context.close();
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  console.log(`board with ${TASKS} tasks: median ${Math.round(median(results.map((r) => r.sinceNav)))} ms after navigation start (median wall ${median(results.map((r) => r.wall))} ms) over ${RUNS} runs`);

  // The JS the first page loads: the scripts the browser fetched, gzipped from the build output.
  let raw = 0;
  let gz = 0;
  for (const p of scripts) {
    const file = path.join(dist, p.replace(/^\//, ''));
    if (!existsSync(file)) continue;
    const buf = readFileSync(file);
    raw += buf.length;
    gz += gzipSync(buf, { level: 9 }).length;
  }
  const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
  const css = [...html.matchAll(/href="\/?(assets\/[^"]+\.css)"/g)].map((m) => readFileSync(path.join(dist, m[1])));
  const cssGz = css.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0);
  console.log(`first page JS: ${scripts.length} file(s), ${raw} bytes raw, ${gz} bytes gzipped -9 = ${(gz / 1024).toFixed(1)} KiB (${scripts.join(', ')})`);
  console.log(`first page CSS: ${cssGz} bytes gzipped = ${(cssGz / 1024).toFixed(1)} KiB`);
} finally {
  await browser?.close();
  await server.stop();
}
