// The documentation runs as written. The README's first steps and command-line blocks, and
// every shell block of the curl skill (skills/mission-control/SKILL.md), run top to bottom in
// bash against the real server started as a new user starts it: from an empty folder, with no
// settings, on the default database path, with the generated admin password. Any answer that
// is not a 2xx fails the block (curl --fail-with-body), as does any command that fails. The
// skill's worker loop runs again on a board with nothing to claim, where it must stop. The
// plugin README's install block is run by tests/openclaw.test.mjs.
//
// Also: .env.example, the README's configuration table and the variables the server reads
// (mission-control-server/src/config/env.rs) name the same settings with the same defaults.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverBinary } from './lib/server.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (file) => readFileSync(path.join(repoRoot, file), 'utf8');
const RUN_MARKER = '<!-- tests/docs.test.mjs runs the next block -->';

/** The ```bash blocks of a Markdown text: all of them, or only those after `marker`. */
function bashBlocks(text, marker) {
  const blocks = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```bash') continue;
    if (marker && lines[i - 1]?.trim() !== marker) continue;
    const indent = lines[i].match(/^\s*/)[0].length;
    const body = [];
    for (i++; i < lines.length && lines[i].trim() !== '```'; i++) body.push(lines[i].slice(indent));
    blocks.push(body.join('\n'));
  }
  return blocks;
}

/** Runs `script` under bash with errors fatal and curl failing on any non-2xx answer. */
function runBash(script, { cwd, env, input = '' }) {
  const prelude = 'set -euo pipefail\ncurl() { command curl --fail-with-body --max-time 20 "$@"; }\n';
  const r = spawnSync('bash', ['-c', prelude + script], {
    cwd, env, input, encoding: 'utf8', timeout: 120_000,
  });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

// The environment of a new user: none of the server's settings, the binary on the PATH.
const SETTINGS = /^(PORT|HOST|JWT_SECRET|ADMIN_.*|DATABASE_PATH|WAL_MAX_MB|FRONTEND_URL|.*_PER_MINUTE|MAX_.*|AGENT_OFFLINE_AFTER|CHANGE_LOG_.*|DASHBOARD_DIR|LOG_FORMAT|MISSION_CONTROL_.*)$/;
function newUserEnv(binDir, extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SETTINGS.test(k)));
  return { ...env, PATH: `${binDir}${path.delimiter}${process.env.PATH}`, RUST_LOG: 'warn', ...extra };
}

/**
 * Starts the server as a new user does, in the new folder `work`, with no settings but a
 * random port: `{server, url, password}` (the generated admin password).
 */
async function startAsNewUser(work, binDir) {
  mkdirSync(work);
  const server = spawn('mission-control-server', [], {
    cwd: work, env: newUserEnv(binDir, { PORT: '0' }), stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  server.stderr.on('data', (d) => { stderr += d; });
  const out = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${text}\n${stderr}`)), 20_000);
    server.stdout.on('data', (d) => {
      text += d;
      if (/listening on http:\/\/\S+/.test(text) && /with password \S+/.test(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    });
    server.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the server exited ${code}:\n${stderr}`)); });
  });
  return {
    server,
    url: out.match(/listening on (http:\/\/\S+)/)[1],
    password: out.match(/sign in as 'admin' with password (\S+)/)[1],
  };
}

describe('the documentation, run as written against a default install', () => {
  let home;
  let binDir;
  let server;
  let url;
  let password;

  before(async () => {
    home = mkdtempSync(path.join(tmpdir(), 'mc-docs-'));
    binDir = path.join(home, 'bin');
    mkdirSync(binDir);
    symlinkSync(serverBinary(), path.join(binDir, 'mission-control-server'));
    ({ server, url, password } = await startAsNewUser(path.join(home, 'board'), binDir));
  });

  after(() => {
    server?.kill('SIGTERM');
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const work = () => path.join(home, 'board');

  test('the README: first steps with curl, then the command line, top to bottom', () => {
    const blocks = bashBlocks(read('README.md'), RUN_MARKER);
    assert.equal(blocks.length, 2, 'the README marks two blocks to run');
    const r = runBash(blocks.join('\n'), {
      cwd: work(), env: newUserEnv(binDir, { MISSION_CONTROL_URL: url }), input: `${password}\n`,
    });
    assert.equal(r.code, 0, `the README's blocks failed (exit ${r.code}):\n${r.out}\n${r.err}`);
    assert.match(r.out, /"status":"done"/, 'the task was completed');
    assert.match(r.out, /"status":"ok"/, 'the health check answered');
    const csv = readFileSync(path.join(work(), 'tasks.csv'), 'utf8');
    assert.match(csv.split('\n')[0], /^id,title,/, 'the CSV export has its header');
    assert.match(csv, /Fix auth bug/);
    const board = JSON.parse(readFileSync(path.join(work(), 'board.json'), 'utf8'));
    assert.ok(board.tasks.some((t) => t.title === 'Fix auth bug'), 'the JSON export holds the task');
    assert.ok(statSync(path.join(work(), 'backup.db')).size > 0, 'the backup was written');
    assert.ok(existsSync(path.join(work(), 'board-export.json')));
    assert.match(readFileSync(path.join(work(), 'kit.token'), 'utf8'), /^ey[\w-]+\.[\w-]+\.[\w-]+\s*$/);
  });

  test('a command run from another folder refuses to create a database there', () => {
    const r = spawnSync('mission-control-server', ['token', '--agent', 'agent-admin'], {
      cwd: home, env: newUserEnv(binDir), encoding: 'utf8', timeout: 30_000,
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /no database at \.\/data\/mission-control\.db; start the server once \(scripts\/run\.sh or mission-control-server\), or set DATABASE_PATH/);
    assert.ok(!existsSync(path.join(home, 'data')), 'no database folder was created');
  });

  test('the skill: every shell block, in order, with a token made as the README says', () => {
    const made = spawnSync('mission-control-server',
      ['token', '--agent', 'agent-scout', '--name', 'Scout', '--role', 'Research'],
      { cwd: work(), env: newUserEnv(binDir), encoding: 'utf8', timeout: 30_000 });
    assert.equal(made.status, 0, made.stderr);
    const blocks = bashBlocks(read('skills/mission-control/SKILL.md'));
    assert.ok(blocks.length >= 8, `the skill has its blocks (${blocks.length})`);
    const r = runBash(blocks.join('\n'), {
      cwd: work(),
      env: newUserEnv(binDir, { MISSION_CONTROL_URL: url, MISSION_CONTROL_TOKEN: made.stdout.trim() }),
    });
    assert.equal(r.code, 0, `the skill's blocks failed (exit ${r.code}):\n${r.out}\n${r.err}`);
    assert.match(r.out, /signed in as agent-scout\n/);
    assert.match(r.out, /"status":"done"/, 'the claimed task was completed');
  });

  test('the skill\'s worker loop on a board with nothing to claim: it stops, and sends nothing more', async () => {
    const fresh = await startAsNewUser(path.join(home, 'empty-board'), binDir);
    try {
      const made = spawnSync('mission-control-server',
        ['token', '--agent', 'agent-idle', '--name', 'Idle', '--role', 'Research'],
        { cwd: path.join(home, 'empty-board'), env: newUserEnv(binDir), encoding: 'utf8', timeout: 30_000 });
      assert.equal(made.status, 0, made.stderr);
      const blocks = bashBlocks(read('skills/mission-control/SKILL.md'));
      const setup = blocks.find((b) => b.includes('signed in as'));
      const loop = blocks.find((b) => b.includes('/api/tasks/claim-next'));
      assert.ok(setup && loop, 'the skill has its setup block and its worker loop');
      // Any request the loop sent with an empty id (/api/tasks//comments) would fail the script.
      const r = runBash(`${setup}\n${loop}`, {
        cwd: path.join(home, 'empty-board'),
        env: newUserEnv(binDir, { MISSION_CONTROL_URL: fresh.url, MISSION_CONTROL_TOKEN: made.stdout.trim() }),
      });
      assert.equal(r.code, 0, `the worker loop failed on an empty board (exit ${r.code}):\n${r.out}\n${r.err}`);
      assert.match(r.out, /nothing to claim\n/);
      assert.doesNotMatch(r.out, /"comment"|"status":"done"/, 'no comment, no completion');
    } finally {
      fresh.server.kill('SIGTERM');
    }
  });

  test('the skill is installable the OpenClaw way', () => {
    const skill = read('skills/mission-control/SKILL.md');
    const front = skill.match(/^---\n([\s\S]*?)\n---\n/)?.[1];
    assert.ok(front, 'the skill starts with frontmatter');
    assert.match(front, /^name: mission-control$/m);
    assert.match(front, /^description: ".+"$/m);
    const version = JSON.parse(read('openclaw-plugin/package/package.json')).version;
    assert.match(front, new RegExp(`^version: ${version.replace(/\./g, '\\.')}$`, 'm'), 'the skill has the plugin\'s version');
    const metadata = front.slice(front.indexOf('metadata:') + 'metadata:'.length);
    // JSON5 as OpenClaw reads it: trailing commas and unquoted keys aside, it is JSON.
    const parsed = JSON.parse(metadata.replace(/,(\s*[}\]])/g, '$1'));
    assert.deepEqual(parsed.openclaw.requires, {
      bins: ['curl'], env: ['MISSION_CONTROL_TOKEN', 'MISSION_CONTROL_URL'],
    });
    assert.equal(parsed.openclaw.primaryEnv, 'MISSION_CONTROL_TOKEN');
    assert.match(skill, /^## Install$/m, 'the skill says how to install it');
  });
});

test('.env.example, the README and the server name the same settings, with the same defaults', () => {
  const readme = read('README.md');
  const table = readme.slice(readme.indexOf('## Configuration'));
  const documented = new Map();
  for (const [, names, dflt] of table.matchAll(/^\| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \| ([^|]+) \|/gm)) {
    for (const name of names.match(/[A-Z_]+/g)) documented.set(name, dflt.trim());
  }
  const example = new Map();
  for (const [, name, value] of read('.env.example').matchAll(/^#? ?([A-Z][A-Z_]+)=(.*)$/gm)) {
    example.set(name, value.trim());
  }
  const config = read('mission-control-server/src/config/env.rs');
  const envStruct = config.slice(config.indexOf('struct Env {'), config.indexOf('}', config.indexOf('struct Env {')));
  const read_ = new Set([...envStruct.matchAll(/^\s+(\w+): Option</gm)].map(([, f]) => f.toUpperCase()));
  read_.add('RUST_LOG');

  assert.deepEqual([...documented.keys()].sort(), [...read_].sort(), 'the README documents what the server reads');
  assert.deepEqual([...example.keys()].sort(), [...read_].sort(), '.env.example shows what the server reads');
  for (const [name, dflt] of documented) {
    const code = dflt.match(/^`([^`]*)`$/)?.[1];
    if (code !== undefined) assert.equal(example.get(name), code, `${name}: .env.example and the README agree`);
  }
});
