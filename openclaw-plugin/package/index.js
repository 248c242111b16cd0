// OpenClaw plugin entry: registers the `mission_control` agent tool. The tool's logic is the
// sandboxed WebAssembly component in ./component/ (built from openclaw-plugin/ in the
// Mission Control repository); this module only loads it, hands it the server URL and token,
// and forwards the model's call to it in one hop.
//
// The default export has the shape of OpenClaw's `definePluginEntry(...)` result
// ({id, name, description, configSchema, register}) without importing the SDK at run time.

import { describeToolError, loadComponent } from './lib/component.js';

export const PLUGIN_ID = 'mission-control';
const DEFAULT_URL = 'http://localhost:3002';

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: { type: 'string', description: 'Mission Control server URL, e.g. http://localhost:3002.' },
    token: { type: 'string', description: 'Agent token (falls back to MISSION_CONTROL_TOKEN).' },
  },
};

/** The URL and token in force: plugin config first, then the environment. */
export function resolveSettings(pluginConfig = {}, env = process.env) {
  const url = (typeof pluginConfig.url === 'string' && pluginConfig.url.trim())
    || env.MISSION_CONTROL_URL?.trim()
    || DEFAULT_URL;
  const token = (typeof pluginConfig.token === 'string' && pluginConfig.token.trim())
    || env.MISSION_CONTROL_TOKEN?.trim()
    || undefined;
  return { url: url.replace(/\/+$/, ''), token };
}

/** Builds the OpenClaw tool object around one component instance. */
export function createMissionControlTool(pluginConfig = {}, options = {}) {
  const settings = () => resolveSettings(pluginConfig, options.env ?? process.env);
  const component = loadComponent(settings, options);
  const { name, description, parametersSchema } = component.describe();
  return {
    name,
    label: 'Mission Control',
    description,
    parameters: JSON.parse(parametersSchema),
    // Task titles and descriptions come from other agents and people.
    resultContentSource: 'network',
    async execute(_toolCallId, params, signal) {
      signal?.throwIfAborted?.();
      let text;
      try {
        text = component.execute(JSON.stringify(params ?? {}));
      } catch (err) {
        const message = describeToolError(err);
        if (message === null) throw err;
        const error = new Error(message);
        error.code = err.payload.tag;
        error.details = err.payload.val;
        throw error;
      }
      const details = JSON.parse(text);
      return {
        content: [{ type: 'text', text: JSON.stringify(details, null, 2) }],
        details,
      };
    },
  };
}

export default {
  id: PLUGIN_ID,
  name: 'Mission Control',
  description: 'The mission_control tool: create, move, update and list tasks on a Mission Control board.',
  configSchema,
  register(api) {
    api.registerTool(createMissionControlTool(api.pluginConfig ?? {}), { name: 'mission_control' });
  },
};
