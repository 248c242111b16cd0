// OpenClaw plugin entry: registers the `mission_control` agent tool.
//
// The tool's logic is the sandboxed WebAssembly component in ./dist/ (built from
// openclaw-plugin/ in the Mission Control repository). `register` stays cheap, as OpenClaw asks
// (it also runs in discovery modes such as `plugins inspect`): the tool's name, description and
// JSON schema come from dist/tool.json, which the build writes from the component's own
// `describe()`, so a new action in the component reaches OpenClaw without a change here.
// The component, its WASI implementation and the WebAssembly compile are loaded on the first
// call, and every call runs without blocking the event loop (see src/runtime.js).
//
// The default export has the shape of OpenClaw's `definePluginEntry(...)` result
// ({id, name, description, configSchema, register}) without importing the SDK at run time.

import { readFileSync } from 'node:fs';
import { fromToolError, success } from './lib/results.js';
import { resolveSettings } from './lib/settings.js';

const manifest = JSON.parse(readFileSync(new URL('./openclaw.plugin.json', import.meta.url), 'utf8'));
export const PLUGIN_ID = manifest.id;

let description;
/** `{name, description, parameters}` as the component describes itself (dist/tool.json). */
export function toolDescription() {
  if (!description) {
    const file = new URL('./dist/tool.json', import.meta.url);
    try {
      description = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`mission_control: ${file.pathname} is missing or broken; build the plugin package (npm run build): ${err.message}`);
    }
  }
  return description;
}

let runtime;
const loadRuntime = () => (runtime ??= import('./dist/runtime.js'));

/**
 * Builds the OpenClaw tool. `options.env` replaces `process.env` for the fallbacks;
 * `options.allowedOrigin` replaces the origin the component may reach (tests);
 * `options.logger` gets a warning for every request the origin rule refused.
 */
export function createMissionControlTool(pluginConfig = {}, options = {}) {
  const { name, description: text, parameters } = toolDescription();
  return {
    name,
    label: 'Mission Control',
    description: text,
    parameters,
    // Task titles and descriptions come from other agents and people.
    resultContentSource: 'network',
    async execute(_toolCallId, params, signal) {
      signal?.throwIfAborted();
      const settings = resolveSettings(pluginConfig, options.env ?? process.env);
      const { execute } = await loadRuntime();
      let answer;
      try {
        answer = await execute(JSON.stringify(params ?? {}), settings, {
          signal,
          allowedOrigin: options.allowedOrigin,
          onDenied: (urls) => options.logger?.warn?.(`mission_control: refused requests outside ${settings.url}: ${urls.join(', ')}`),
        });
      } catch (err) {
        if (signal?.aborted && err === signal.reason) throw err;
        return fromToolError(err, settings.timeouts);
      }
      return success(answer);
    },
  };
}

export default {
  id: PLUGIN_ID,
  name: manifest.name,
  description: manifest.description,
  configSchema: manifest.configSchema,
  register(api) {
    const tool = createMissionControlTool(api.pluginConfig ?? {}, { logger: api.logger });
    api.registerTool(tool, { name: tool.name });
  },
};
