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
