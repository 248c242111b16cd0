#!/usr/bin/env node
// Transpiles the built tool component into ./component/ with jco (sync instantiation, so the
// plugin's register() can read the tool's schema right away).
//
// The .wasm: $MISSION_CONTROL_TOOL_WASM, else <target>/wasm32-wasip2/wasm-release/
// mission_control_tool.wasm where <target> is $CARGO_TARGET_DIR, else
// ~/.cache/mission-control/target when it exists, else the repository's target/.
// Build it first: cargo build -p mission-control-tool --target wasm32-wasip2 --profile wasm-release

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(packageDir, '..', '..');

function componentPath() {
  if (process.env.MISSION_CONTROL_TOOL_WASM) return path.resolve(process.env.MISSION_CONTROL_TOOL_WASM);
  const cached = path.join(homedir(), '.cache', 'mission-control', 'target');
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(process.env.CARGO_TARGET_DIR)
    : existsSync(cached) ? cached : path.join(repoRoot, 'target');
  return path.join(target, 'wasm32-wasip2', 'wasm-release', 'mission_control_tool.wasm');
}

const wasm = componentPath();
if (!existsSync(wasm)) {
  console.error(`${wasm} not found. Build the component first:\n`
    + '  cargo build -p mission-control-tool --target wasm32-wasip2 --profile wasm-release');
  process.exit(1);
}

const outDir = path.join(packageDir, 'component');
rmSync(outDir, { recursive: true, force: true });
const jco = path.join(packageDir, 'node_modules', '.bin', 'jco');
const result = spawnSync(jco, [
  'transpile', wasm,
  '--out-dir', outDir,
  '--name', 'mission_control_tool',
  '--instantiation', 'sync',
  '--no-typescript',
  '--quiet',
], { stdio: 'inherit' });
if (result.error) {
  console.error(`cannot run ${jco} (npm install first): ${result.error.message}`);
  process.exit(1);
}
if (result.status !== 0) process.exit(result.status ?? 1);
// lib/component.js names the core modules statically; fail loudly if jco ever splits differently.
const expected = ['mission_control_tool.core.wasm', 'mission_control_tool.core2.wasm', 'mission_control_tool.core3.wasm'];
const cores = readdirSync(outDir).filter((f) => f.endsWith('.wasm')).sort();
if (JSON.stringify(cores) !== JSON.stringify(expected)) {
  console.error(`jco produced ${cores.join(', ')}; update CORE_MODULES in lib/component.js`);
  process.exit(1);
}
console.log(`transpiled ${wasm} into ${path.relative(process.cwd(), outDir) || '.'}`);
