#!/usr/bin/env node
// Builds the plugin package from the tool component (`npm run build`):
//
//   0. cargo builds the component from this checkout (wasm32-wasip2, profile wasm-release), so
//      the package always holds the component of the sources next to it, never a .wasm left
//      in a shared target folder by another clone or an older build. The target folder is
//      cargo's own choice: $CARGO_TARGET_DIR when set, else the repository's target/.
//      Nothing to rebuild is a no-op.
//   1. jco transpiles the component for JSPI (`--async-mode jspi`): the component suspends on
//      every blocking WASI call instead of blocking the thread (build/jspi/).
//   2. The component describes itself: a synchronous transpile (build/describe/) is
//      instantiated with preview2-shim's Fetch-based WASI (no I/O happens) and its
//      `describe()` is written to dist/tool.json, which `register` reads.
//   3. rolldown bundles src/runtime.js with the JSPI glue and that WASI implementation into
//      dist/runtime.js, next to the component's core modules: the package has no run-time
//      dependencies.
//   4. The repository's skills/mission-control/SKILL.md is copied into skills/ (shipped with
//      the plugin, listed in openclaw.plugin.json).
//
// `--check` (npm's prepack) only verifies that the build output is there.
//
// Needs Rust with the wasm32-wasip2 target (rustup target add wasm32-wasip2).

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(packageDir, '..', '..');
const distDir = path.join(packageDir, 'dist');
const buildDir = path.join(packageDir, 'build');
const skillSource = path.join(repoRoot, 'skills', 'mission-control', 'SKILL.md');
const skillTarget = path.join(packageDir, 'skills', 'mission-control', 'SKILL.md');
const CORE_MODULES = ['mission_control_tool.core.wasm', 'mission_control_tool.core2.wasm', 'mission_control_tool.core3.wasm'];
const OUTPUTS = ['dist/runtime.js', 'dist/tool.json', 'dist/THIRD_PARTY_NOTICES.md', ...CORE_MODULES.map((f) => `dist/${f}`),
  'skills/mission-control/SKILL.md'];

function fail(message) {
  console.error(message);
  process.exit(1);
}

if (process.argv.includes('--check')) {
  const missing = OUTPUTS.filter((f) => !existsSync(path.join(packageDir, f)));
  if (missing.length) fail(`the plugin package is not built (missing ${missing.join(', ')}): npm run build`);
  process.exit(0);
}

/** Builds the component from this checkout; the path of the .wasm cargo wrote. */
function buildComponent() {
  const args = ['build', '-p', 'mission-control-tool', '--target', 'wasm32-wasip2', '--profile', 'wasm-release',
    '--message-format=json-render-diagnostics'];
  const result = spawnSync('cargo', args, {
    cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.error) fail(`cannot run cargo (install Rust: https://rustup.rs): ${result.error.message}`);
  if (result.status !== 0) {
    fail(`cargo ${args.join(' ')} failed in ${repoRoot}; the wasm32-wasip2 target needs: rustup target add wasm32-wasip2`);
  }
  // cargo's own report of what it built (or found fresh) names the file, wherever the target folder is.
  const wasm = result.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line))
    .filter((m) => m.reason === 'compiler-artifact' && m.target?.name === 'mission_control_tool')
    .flatMap((m) => m.filenames).find((f) => f.endsWith('.wasm'));
  if (!wasm || !existsSync(wasm)) fail(`cargo built no mission_control_tool.wasm in ${repoRoot}`);
  return wasm;
}

const wasm = buildComponent();

const jco = path.join(packageDir, 'node_modules', '.bin', 'jco');
function transpile(outDir, args) {
  rmSync(outDir, { recursive: true, force: true });
  const result = spawnSync(jco, ['transpile', wasm, '--out-dir', outDir, '--name', 'mission_control_tool',
    '--no-typescript', '--quiet', ...args], { stdio: 'inherit' });
  if (result.error) fail(`cannot run ${jco} (npm ci first): ${result.error.message}`);
  if (result.status !== 0) process.exit(result.status ?? 1);
  // src/runtime.js names the core modules statically; fail loudly if jco ever splits differently.
  const cores = readdirSync(outDir).filter((f) => f.endsWith('.wasm')).sort();
  if (JSON.stringify(cores) !== JSON.stringify(CORE_MODULES)) {
    fail(`jco produced ${cores.join(', ')}; update CORE_MODULES in src/runtime.js and scripts/build.mjs`);
  }
}

// 1. The JSPI build the plugin runs.
const jspiDir = path.join(buildDir, 'jspi');
transpile(jspiDir, ['--instantiation', 'async', '--async-mode', 'jspi', '--async-wasi-imports',
  '--async-exports', 'mission-control:tool/actions#execute']);

// 2. The tool's description, from the component itself.
const describeDir = path.join(buildDir, 'describe');
transpile(describeDir, ['--instantiation', 'sync']);
const shimDir = path.join(packageDir, 'node_modules', '@bytecodealliance', 'preview2-shim');
const shim = async (name) => import(pathToFileURL(path.join(shimDir, 'dist', 'browser', `${name}.js`)).href);
const [cli, clocks, http, io, random] = await Promise.all(['cli', 'clocks', 'http', 'io', 'random'].map(shim));
const { instantiate } = await import(pathToFileURL(path.join(describeDir, 'mission_control_tool.js')).href);
const { wasiImports } = await import('../src/wasi-imports.js');
const root = instantiate((name) => new WebAssembly.Module(readFileSync(path.join(describeDir, name))), {
  'mission-control:tool/config': { serverUrl: () => '', authToken: () => undefined, requestTimeouts: () => ({}) },
  'mission-control:tool/types': {},
  ...wasiImports({ cli, clocks, http, io, random }),
});
const described = (root.actions ?? root['mission-control:tool/actions@0.1.0']).describe();
const tool = { name: described.name, description: described.description, parameters: JSON.parse(described.parametersSchema) };
const manifest = JSON.parse(readFileSync(path.join(packageDir, 'openclaw.plugin.json'), 'utf8'));
if (!manifest.contracts?.tools?.includes(tool.name)) {
  fail(`the component calls its tool ${tool.name}; openclaw.plugin.json contracts.tools must list it`);
}
rmSync(distDir, { recursive: true, force: true });
mkdirSync(distDir, { recursive: true });
writeFileSync(path.join(distDir, 'tool.json'), `${JSON.stringify(tool, null, 2)}\n`);

// 3. One self-contained runtime module plus the core modules.
const { build } = await import('rolldown');
await build({
  input: path.join(packageDir, 'src', 'runtime.js'),
  platform: 'neutral',
  // The shim's Fetch-based WASI ("default" export condition), not its worker-thread one ("node").
  resolve: { conditionNames: ['import', 'default'], mainFields: ['module', 'main'] },
  external: [/^node:/],
  logLevel: 'warn',
  // jco marks its glue with a "use components" directive that bundling may drop; nothing needs it.
  onLog(level, log, handler) {
    if (log.code !== 'MODULE_LEVEL_DIRECTIVE') handler(level, log);
  },
  output: { file: path.join(distDir, 'runtime.js'), format: 'esm', minify: true, comments: { legal: true } },
});
for (const core of CORE_MODULES) copyFileSync(path.join(jspiDir, core), path.join(distDir, core));
writeFileSync(path.join(distDir, 'THIRD_PARTY_NOTICES.md'), [
  '# Third-party code in runtime.js',
  '',
  'runtime.js bundles code generated by and shipped with jco (`@bytecodealliance/jco` 1.35 and',
  '`@bytecodealliance/preview2-shim` 0.26), licensed Apache-2.0 WITH LLVM-exception:',
  '',
  '```text',
  readFileSync(path.join(shimDir, 'LICENSE'), 'utf8').trim(),
  '```',
  '',
].join('\n'));

// 4. The skill, shipped with the plugin (one source of truth: the repository's skills/).
mkdirSync(path.dirname(skillTarget), { recursive: true });
copyFileSync(skillSource, skillTarget);

const size = (f) => readFileSync(path.join(packageDir, f)).length;
console.log(`built ${path.relative(process.cwd(), distDir) || 'dist'} from ${wasm}: `
  + OUTPUTS.map((f) => `${f} ${(size(f) / 1024).toFixed(0)} KiB`).join(', '));
