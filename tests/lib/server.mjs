// Starts the real mission-control-server binary on a random port with a fresh SQLite file,
// the way a user would run it, and hands tests its URL and an admin token.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where cargo put the server binary: $MISSION_CONTROL_SERVER_BIN, else the target dir. */
export function serverBinary() {
  if (process.env.MISSION_CONTROL_SERVER_BIN) return process.env.MISSION_CONTROL_SERVER_BIN;
  const targetDir = process.env.CARGO_TARGET_DIR
    ?? (existsSync(path.join(homedir(), '.cache/mission-control/target'))
      ? path.join(homedir(), '.cache/mission-control/target')
      : path.join(repoRoot, 'target'));
  return path.join(targetDir, 'debug', 'mission-control-server');
}

export const JWT_SECRET = 'node-test-secret-that-is-long-enough-0123456789';
export const ADMIN = { username: 'patch', password: 'test-password-123', id: 'agent-patch' };

/**
 * Spawns the server and resolves once it prints its listening line.
 * Returns { url, dataDir, token, stop(), kill(signal), request(method, path, body, token) }.
 */
export async function startServer({ env = {}, dataDir } = {}) {
  const dir = dataDir ?? mkdtempSync(path.join(tmpdir(), 'mc-test-'));
  const child = spawn(serverBinary(), [], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_PATH: path.join(dir, 'mission-control.db'),
      JWT_SECRET,
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      ADMIN_NAME: 'Patch',
      ADMIN_ROLE: 'Dev',
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
      DASHBOARD_DIR: process.env.DASHBOARD_DIR ?? path.join(repoRoot, 'frontend', 'dist'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  let out = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 20000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}:\n${stderr}`)); });
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

  async function request(method, urlPath, body, token) {
    const headers = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(url + urlPath, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: res.status, body: json, headers: res.headers };
  }

  // A server started without ADMIN_PASSWORD generates one (and prints it): no sign-in then.
  let token;
  if (env.ADMIN_PASSWORD !== '') {
    const login = await request('POST', '/api/auth/login', { username: ADMIN.username, password: ADMIN.password });
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
    token = login.body.token;
  }

  return {
    url,
    dataDir: dir,
    token,
    /** What the server has printed on stdout so far. */
    get stdout() { return out; },
    request,
    kill(signal = 'SIGTERM') { child.kill(signal); return exited; },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
