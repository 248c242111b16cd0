// Several server processes on one PostgreSQL database, as a team runs the board: each test gets
// a schema of its own in the cluster the test command started (MISSION_CONTROL_TEST_POSTGRES,
// an admin URL), and every process shares it and one signing key.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { startServer, ADMIN } from './server.mjs';

export const postgresUrl = process.env.MISSION_CONTROL_TEST_POSTGRES;
/** The cluster's folder, when the test command started it (to restart it). */
export const postgresDir = process.env.MISSION_CONTROL_TEST_POSTGRES_DIR;

let schemas = 0;

/** Runs SQL as the cluster's administrator; the output, trimmed. */
export function psql(sql, url = postgresUrl) {
  return execFileSync('psql', [url, '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGOPTIONS: '--client-min-messages=warning' },
  }).trim();
}

/** A fresh schema and the URL that puts a board in it. */
export function freshBoardUrl() {
  const schema = `c_${process.pid}_${Date.now()}_${schemas++}`;
  psql(`CREATE SCHEMA ${schema}`);
  const sep = postgresUrl.includes('?') ? '&' : '?';
  return { schema, url: `${postgresUrl}${sep}options=-c%20search_path%3D${schema}` };
}

/**
 * Starts `count` server processes on one fresh board: one at a time (each joining a board
 * already served), or all at the same moment with `together`.
 */
export async function startCluster(count = 3, env = {}, { together = false } = {}) {
  const { schema, url } = freshBoardUrl();
  const start = () => startServer({ env: { DATABASE_URL: url, DATABASE_PATH: '', ...env } });
  const servers = [];
  if (together) {
    servers.push(...await Promise.all(Array.from({ length: count }, start)));
  } else {
    for (let i = 0; i < count; i += 1) servers.push(await start());
  }
  return {
    schema,
    url,
    servers,
    async stop() {
      await Promise.all(servers.map((s) => s.stop().catch(() => {})));
      try { psql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); } catch { /* the cluster may be gone */ }
    },
  };
}

/** A free TCP port on the loopback interface. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Whether HAProxy is installed. */
export function haproxyAvailable() {
  try { execFileSync('haproxy', ['-v'], { stdio: 'ignore' }); return true; } catch { return false; }
}

/**
 * HAProxy in front of `servers`, with the README's configuration: round robin, active health
 * checks on /health, WebSocket upgrades passed through. Resolves once it accepts connections.
 */
export async function startHaproxy(servers) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mc-haproxy-'));
  const port = await freePort();
  const backends = servers
    .map((s, i) => `  server app${i + 1} ${new URL(s.url).host} check`)
    .join('\n');
  const config = `global
  maxconn 4096

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
  timeout http-keep-alive 10s

frontend board
  bind 127.0.0.1:${port}
  default_backend servers

backend servers
  balance roundrobin
  option httpchk GET /health
  http-check expect status 200
  option forwardfor
${backends}
`;
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const child = spawn('haproxy', ['-f', file, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i += 1) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.status === 200) break;
    } catch { /* not yet */ }
    if (child.exitCode !== null) throw new Error(`haproxy exited:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    config,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { ADMIN };
