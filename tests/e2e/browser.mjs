// Shared by the dashboard's browser tests: Debian's Chromium driven by playwright-core, sign-in,
// card lookups, timed waits and screenshots (to tests/artifacts/, git-ignored).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { ADMIN } from '../lib/server.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = path.join(repoRoot, 'tests', 'artifacts');
/** The README's screenshots; refreshed from the tests' own with UPDATE_SCREENSHOTS=1. */
export const DOCS_SCREENSHOTS = path.join(repoRoot, 'docs', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
/** "Within a second" is the product requirement for live updates. */
export const LIVE_MS = 1000;
export const DESKTOP = { viewport: { width: 1440, height: 900 } };
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

/** Checks the build and the browser are there, then launches Chromium. */
export async function launchBrowser() {
  const dist = path.join(repoRoot, 'frontend', 'dist', 'index.html');
  assert.ok(existsSync(dist), `the dashboard is not built: run \`npm --prefix frontend run build\` (missing ${dist})`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export function card(page, title) {
  return page.locator('[data-testid="task-card"]', { has: page.locator('[data-testid="card-title"]', { hasText: title }) });
}

export async function cardStatus(page, title) {
  return card(page, title).getAttribute('data-status');
}

/** Saves a screenshot to tests/artifacts/<name>.png; `docs` also refreshes the README's copy. */
export async function shot(page, name, { docs = false } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  if (docs && process.env.UPDATE_SCREENSHOTS) {
    mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
    copyFileSync(file, path.join(DOCS_SCREENSHOTS, `${name}.png`));
  }
}

/** Waits for `locator` for at most `ms` and returns how long it took. */
export async function within(locator, ms, what) {
  const t0 = Date.now();
  try {
    await locator.waitFor({ state: 'visible', timeout: ms });
  } catch {
    assert.fail(`${what}: not visible within ${ms} ms`);
  }
  return Date.now() - t0;
}

/** Opens the dashboard in `context`, signs in as the admin and waits for the live connection. */
export async function signIn(context, url) {
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.goto(url);
  await page.getByTestId('login-username').fill(ADMIN.username);
  await page.getByTestId('login-password').fill(ADMIN.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('board').waitFor();
  await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor({ timeout: 10_000 });
  return page;
}

/** Opens the dashboard in `context` signed in with an agent's token (an agent's session, not the operator's). */
export async function signInWithToken(context, url, token, user) {
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.goto(url);
  await page.evaluate(
    ([t, u]) => {
      localStorage.setItem('mc.token', t);
      localStorage.setItem('mc.user', JSON.stringify(u));
    },
    [token, { ...user, operator: false }],
  );
  await page.reload();
  await page.getByTestId('board').waitFor();
  await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor({ timeout: 10_000 });
  return page;
}

/** Splits Engine.IO payloads into Socket.io packets: `0{...}` connect, `2[...]` event. */
function socketPackets(payload) {
  if (typeof payload !== 'string') return [];
  return payload
    .split('\x1e')
    .filter((p) => p.startsWith('4'))
    .map((p) => p.slice(1));
}

/**
 * The live connection of a browser context, under the test's control, on both Socket.io
 * transports (long-polling and WebSocket), while the page's REST requests go through untouched:
 * - `cut()` drops it like a network failure (the client sees its transport close and reconnects
 *   on its own), and refuses new ones until `restore()`;
 * - `hold()` keeps the server's packets from the page until `release()` (a slow network);
 * - `rewriteConnect(fn, { once })` changes the auth of the next Socket.io connect packet(s);
 * - `connects()` are the auth payloads the page sent, `events(name)` what it received.
 * `polling: false` leaves long-polling alone (for a test that takes the whole context offline
 * with `setOffline`): only the WebSocket is cut, and only its packets are logged.
 */
export async function liveLink(context, { polling = true } = {}) {
  const link = {
    down: false,
    holding: false,
    held: [],
    sockets: new Set(),
    sent: [],
    received: [],
    rewrite: null,
    rewriteOnce: false,
  };
  const rewritePayload = (payload) => {
    if (!link.rewrite || typeof payload !== 'string') return payload;
    return payload
      .split('\x1e')
      .map((p) => {
        if (!p.startsWith('40')) return p;
        const auth = p.length > 2 ? JSON.parse(p.slice(2)) : {};
        const rewritten = link.rewrite(auth);
        if (link.rewriteOnce) link.rewrite = null;
        return `40${JSON.stringify(rewritten)}`;
      })
      .join('\x1e');
  };
  const note = (list, payload) => list.push(...socketPackets(payload).map((p) => ({ at: Date.now(), packet: p })));

  if (polling) await context.route(/\/socket\.io\//, async (route) => {
    if (link.down) return route.abort('internetdisconnected').catch(() => {});
    const req = route.request();
    const postData = req.method() === 'POST' ? rewritePayload(req.postData()) : undefined;
    if (postData !== undefined) note(link.sent, postData);
    let response;
    try {
      response = await route.fetch({ postData, timeout: 60_000 });
    } catch {
      return route.abort('failed').catch(() => {});
    }
    const body = await response.text();
    if (req.method() === 'GET') note(link.received, body);
    if (link.down) return route.abort('internetdisconnected').catch(() => {});
    await route.fulfill({ response, body }).catch(() => {});
  });
  await context.routeWebSocket(/\/socket\.io\//, (ws) => {
    if (link.down) {
      ws.close();
      return;
    }
    const upstream = ws.connectToServer();
    const entry = { ws, upstream };
    link.sockets.add(entry);
    ws.onClose(() => link.sockets.delete(entry));
    upstream.onClose(() => link.sockets.delete(entry));
    ws.onMessage((message) => {
      const m = rewritePayload(message);
      note(link.sent, m);
      upstream.send(m);
    });
    upstream.onMessage((message) => {
      note(link.received, message);
      if (link.holding) link.held.push(() => ws.send(message));
      else ws.send(message);
    });
  });

  link.cut = async () => {
    link.down = true;
    for (const { ws, upstream } of [...link.sockets]) {
      await ws.close().catch(() => {});
      await upstream.close().catch(() => {});
    }
  };
  link.restore = () => {
    link.down = false;
  };
  link.hold = () => {
    link.holding = true;
  };
  link.release = () => {
    link.holding = false;
    for (const send of link.held.splice(0)) send();
  };
  /** `once`: only the next connect packet (a reconnect after that is left alone). */
  link.rewriteConnect = (fn, { once = false } = {}) => {
    link.rewrite = fn;
    link.rewriteOnce = once;
  };
  /** Whether the page's socket is on a WebSocket now (packets can be held and cut at once). */
  link.upgraded = () => link.sockets.size > 0;
  link.connects = () => link.sent.filter((p) => p.packet.startsWith('0')).map((p) => (p.packet.length > 1 ? JSON.parse(p.packet.slice(1)) : {}));
  link.events = (name) =>
    link.received
      .filter((p) => p.packet.startsWith('2'))
      .map((p) => ({ at: p.at, ...(() => { const [n, data] = JSON.parse(p.packet.slice(1)); return { name: n, data }; })() }))
      .filter((e) => !name || e.name === name);
  return link;
}

/** Waits until `check()` holds, for at most `ms`. */
export async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
