// The plugin's settings: plugin config first (`plugins.entries.mission-control.config`, already
// resolved by OpenClaw when the token is a SecretRef), then the environment, then defaults.

export const DEFAULT_URL = 'http://localhost:3002';

/** The config keys of the request limits and what the component calls them. */
const TIMEOUT_KEYS = {
  connectTimeoutMs: 'connectMs',
  firstByteTimeoutMs: 'firstByteMs',
  betweenBytesTimeoutMs: 'betweenBytesMs',
};
export const TIMEOUT_RANGE_MS = { min: 100, max: 600_000 };

const text = (value) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

/**
 * `{url, token, timeouts}` for one call. A token that is not a string (a SecretRef OpenClaw has
 * not resolved) counts as absent. A timeout outside 100 ms ..= 10 min is ignored (the
 * manifest's schema refuses it first); absent timeouts keep the component's defaults.
 */
export function resolveSettings(pluginConfig = {}, env = process.env) {
  const config = pluginConfig && typeof pluginConfig === 'object' ? pluginConfig : {};
  const url = text(config.url) ?? text(env.MISSION_CONTROL_URL) ?? DEFAULT_URL;
  const token = text(config.token) ?? text(env.MISSION_CONTROL_TOKEN);
  const timeouts = {};
  for (const [key, name] of Object.entries(TIMEOUT_KEYS)) {
    const ms = config[key];
    if (Number.isInteger(ms) && ms >= TIMEOUT_RANGE_MS.min && ms <= TIMEOUT_RANGE_MS.max) timeouts[name] = ms;
  }
  return { url: url.replace(/\/+$/, ''), token, timeouts };
}
