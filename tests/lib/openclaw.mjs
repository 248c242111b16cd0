// Real OpenClaw for the tests: its CLI under Node 24, both from npm (installed once into
// ~/.cache/mission-control/openclaw/ by openclaw-plugin/package/scripts/openclaw-env.mjs), each
// run in its own fresh home folder so that nothing of the machine's own OpenClaw leaks in.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR, ensureOpenClaw } from '../../openclaw-plugin/package/scripts/openclaw-env.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const packageDir = path.join(repoRoot, 'openclaw-plugin', 'package');

/** `{node, openclaw}` (installing them on first use). */
export const openclawInstall = () => ensureOpenClaw();

/** The environment of a fresh OpenClaw user whose home is `home`. */
export function freshEnv(home, extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OPENCLAW_')
    && k !== 'NODE_TEST_CONTEXT' && k !== 'NODE_OPTIONS' && k !== 'MISSION_CONTROL_TOKEN' && k !== 'MISSION_CONTROL_URL'));
  return {
    ...env,
    HOME: home,
    NO_COLOR: '1',
    // One npm cache for every fresh home: OpenClaw's managed plugin installs reuse it.
    npm_config_cache: path.join(CACHE_DIR, 'npm-cache'),
    ...extra,
  };
}

/**
 * Runs `openclaw ...args` for the user at `home`: resolves `{code, stdout, stderr, ms}`.
 * Async, so that several fresh users can run side by side.
 */
export function openclaw(home, args, { input, timeout = 240_000, env } = {}) {
  const { node, openclaw: cli } = openclawInstall();
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(node, [cli, ...args], { env: env ?? freshEnv(home), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { stderr += `\n[killed after ${timeout} ms]`; child.kill('SIGKILL'); }, timeout);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, ms: Date.now() - started }); });
    child.stdin.end(input ?? '');
  });
}

/** `openclaw ...args`; rejects with its output unless it exits 0. Resolves stdout. */
export async function openclawOk(home, args, options) {
  const r = await openclaw(home, args, options);
  if (r.code !== 0) throw new Error(`openclaw ${args.join(' ')} exited ${r.code} after ${r.ms} ms:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `npm pack` of the built plugin into `dir`: the tarball's path. */
export function packPlugin(dir) {
  const r = spawnSync('npm', ['pack', packageDir, '--pack-destination', dir, '--json', '--loglevel=error'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm pack failed:\n${r.stdout}\n${r.stderr}`);
  const [{ filename, files }] = JSON.parse(r.stdout);
  return { tarball: path.join(dir, path.basename(filename)), files: files.map((f) => f.path).sort() };
}

/**
 * A folder of commands for shell scripts: `openclaw` (Node 24 + the cached CLI) and the given
 * `{name: path}` links. Returns the PATH to run them with (Node 24 first).
 */
export function commandPath(dir, links = {}) {
  const { node, openclaw: cli } = openclawInstall();
  mkdirSync(dir, { recursive: true });
  const wrapper = path.join(dir, 'openclaw');
  writeFileSync(wrapper, `#!/bin/sh\nexec "${node}" "${cli}" "$@"\n`);
  chmodSync(wrapper, 0o755);
  for (const [name, target] of Object.entries(links)) symlinkSync(target, path.join(dir, name));
  return [dir, path.dirname(node), process.env.PATH].join(path.delimiter);
}

export async function freePort() {
  const srv = createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Polls `probe` (async, truthy when done) every `interval` ms for up to `timeout` ms. */
export async function waitFor(what, probe, { timeout = 60_000, interval = 250 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** Runs `items` through `fn` with at most `limit` at a time; resolves the results in order. */
export async function inParallel(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
