// Node 24 for the tests that need it: the OpenClaw plugin runs its component with WebAssembly
// JSPI, which Node 20 (the project's Node) lacks. Such a test file runs its tests natively
// under Node 24 and, under an older Node, runs itself again under Node 24 (from npm, cached in
// ~/.cache/mission-control/openclaw/) as one test whose output is the full report.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureNode } from '../../openclaw-plugin/package/scripts/openclaw-env.mjs';

/** Whether this Node can run the plugin (WebAssembly JavaScript-Promise Integration). */
export const hasJspi = typeof WebAssembly.Suspending === 'function' && typeof WebAssembly.promising === 'function';

/** Runs the test file `fileUrl` under Node 24; rejects with its report unless all pass. */
export async function runUnderNode24(t, fileUrl) {
  const node = ensureNode();
  // Without the parent runner's context, or the child would think it is a file of this run.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(node, ['--test', '--test-concurrency=1', '--test-reporter=spec', fileURLToPath(fileUrl)], {
    env: { ...env, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let report = '';
  child.stdout.on('data', (d) => { report += d; });
  child.stderr.on('data', (d) => { report += d; });
  const code = await new Promise((resolve) => child.on('close', resolve));
  for (const line of report.trimEnd().split('\n')) t.diagnostic(line);
  if (code !== 0) throw new Error(`under Node 24 (${node}) the tests failed:\n${report}`);
  const passed = Number(/^ℹ pass (\d+)$/m.exec(report)?.[1] ?? 0);
  if (passed === 0) throw new Error(`under Node 24 (${node}) no test ran:\n${report}`);
}
