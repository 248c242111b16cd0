// The dashboard in headless Chromium against the real server (fresh database, random port):
// sign-in, create, live sync between two browser contexts, drag and drop, keyboard moves, an
// agent's REST write, reload, XSS-safe rendering, and offline -> banner -> back online, caught up
// from the last seq (agents.test.mjs has a transport dropped under the page, and the reload when
// the server's log cannot catch it up).
// Needs the built dashboard (npm --prefix frontend run build) and Debian's chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, ADMIN } from '../lib/server.mjs';
import { LIVE_MS, card, cardStatus, launchBrowser, liveLink, shot, signIn as signInAt, within } from './browser.mjs';

let server;
let browser;
/** Two signed-in tabs in separate browser contexts: A acts, B watches. */
let a;
let b;
/** B's live connection, which the test cuts like a network drop. */
let bLink;

const signIn = (context) => signInAt(context, server.url);

before(async () => {
  browser = await launchBrowser();
  server = await startServer();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a wrong password is refused, the right one signs in', async () => {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByTestId('login-form').waitFor();
  await shot(page, 'dashboard-login');
  await page.getByTestId('login-username').fill(ADMIN.username);
  await page.getByTestId('login-password').fill('not-the-password');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-error').waitFor();
  await context.close();

  const ctxA = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
  a = await signIn(ctxA);
  assert.ok(await a.evaluate(() => localStorage.getItem('mc.token')), 'the token is kept in localStorage');
  await a.getByTestId('board-empty').waitFor();
  await shot(a, 'dashboard-empty');

  const ctxB = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  bLink = await liveLink(ctxB, { polling: false });
  b = await signIn(ctxB);
});

test('the dialog shows the API validation error at the field', async () => {
  await a.getByTestId('new-task').click();
  const dialog = a.getByTestId('task-dialog');
  await dialog.waitFor();
  await dialog.getByTestId('field-title').fill('   ');
  await dialog.getByTestId('save-task').click();
  await dialog.getByTestId('error-title').waitFor();
  assert.equal(await dialog.getByTestId('field-title').getAttribute('aria-invalid'), 'true');
  await shot(a, 'dashboard-validation');
  await a.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
});

test('a task created in one tab appears in the other within a second', async () => {
  const title = 'Write the launch checklist';
  await a.getByTestId('new-task').click();
  const dialog = a.getByTestId('task-dialog');
  await dialog.getByTestId('field-title').fill(title);
  await dialog.getByTestId('field-description').fill('Everything that must be true before we ship.');
  await dialog.getByTestId('field-priority').selectOption('high');
  await dialog.getByTestId('field-tags').fill('launch, docs');
  await dialog.getByTestId('save-task').click();
  await dialog.waitFor({ state: 'detached' });
  const ms = await within(card(b, title), LIVE_MS, 'task.created in the second tab');
  console.log(`# live create seen by the other tab after ${ms} ms`);
  await card(a, title).waitFor();
  assert.equal(await cardStatus(a, title), 'backlog');
  assert.equal(await card(a, title).getByTestId('card-priority').textContent(), 'High');
  assert.equal(await b.getByTestId('count-backlog').textContent(), '1');
});

test('dragging a card to done moves it in the other tab too', async () => {
  const title = 'Write the launch checklist';
  await card(a, title).dragTo(a.locator('[data-testid="column-done"] .column__body'));
  await a.locator('[data-testid="column-done"] [data-testid="task-card"]', { hasText: title }).waitFor({ timeout: 2000 });
  const ms = await within(b.locator('[data-testid="column-done"] [data-testid="task-card"]', { hasText: title }), LIVE_MS, 'drag to done in the second tab');
  console.log(`# drag to done seen by the other tab after ${ms} ms`);
  assert.equal(await b.getByTestId('count-done').textContent(), '1');
  assert.equal(await b.getByTestId('count-backlog').textContent(), '0');
});

test('cards move with the keyboard', async () => {
  const title = 'Write the launch checklist';
  const c = card(a, title);
  await c.focus();
  await a.keyboard.press('Space'); // pick up
  await a.keyboard.press('ArrowLeft'); // in progress
  await a.keyboard.press('Space'); // drop
  await a.locator('[data-testid="column-in-progress"] [data-testid="task-card"]', { hasText: title }).waitFor({ timeout: 2000 });
  await within(b.locator('[data-testid="column-in-progress"] [data-testid="task-card"]', { hasText: title }), LIVE_MS, 'keyboard move in the second tab');
  // Focus follows the card, so it can be moved on at once.
  await a.keyboard.press('Shift+ArrowRight');
  await within(b.locator('[data-testid="column-done"] [data-testid="task-card"]', { hasText: title }), LIVE_MS, 'shift+arrow move in the second tab');
});

test("an agent's REST write appears live, with the agent in the panel and the feed", async () => {
  let res = await server.request('POST', '/api/agents', { id: 'agent-nova', name: 'Nova', role: 'Research', avatarColor: '#10b981', status: 'online' }, server.token);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  res = await server.request('POST', '/api/auth/tokens', { agentId: 'agent-nova' }, server.token);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const agentToken = res.body.token;

  const title = 'Benchmark the vector index';
  res = await server.request('POST', '/api/tasks', { title, status: 'todo', priority: 'critical', assignedAgent: 'agent-nova', tags: ['research'] }, agentToken);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const taskId = res.body.task.id;
  const ms = await within(b.locator('[data-testid="column-todo"] [data-testid="task-card"]', { hasText: title }), LIVE_MS, "agent's task in tab B");
  await within(card(a, title), LIVE_MS, "agent's task in tab A");
  console.log(`# agent REST write seen after ${ms} ms`);
  assert.equal(await card(a, title).getByTestId('card-assignee-name').textContent(), 'Nova');

  // The agent shows up in the panel, and its status changes live.
  await a.locator('[data-testid="agent-item"][data-agent-id="agent-nova"]').waitFor({ timeout: 5000 });
  res = await server.request('PATCH', '/api/agents/agent-nova', { status: 'busy' }, agentToken);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  await within(a.locator('[data-testid="agent-item"][data-agent-id="agent-nova"][data-status="busy"]'), LIVE_MS, 'agent status in tab A');

  // The feed has a line for the task, newest first, and it opens the task.
  const line = a.locator(`[data-testid="event-item"][data-task-id="${taskId}"]`).first();
  await within(line, LIVE_MS, 'event.new in the feed');
  await line.locator('a').click();
  const dialog = a.getByTestId('task-dialog');
  await dialog.waitFor();
  assert.equal(await dialog.getByTestId('field-title').inputValue(), title);
  await shot(a, 'dashboard-dialog');
  await a.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
});

test('a title with markup renders as text', async () => {
  const xss = '<img src=x onerror=alert(1)>';
  let dialogs = 0;
  const onDialog = (d) => {
    dialogs += 1;
    void d.dismiss();
  };
  a.on('dialog', onDialog);
  b.on('dialog', onDialog);
  await a.getByTestId('new-task').click();
  const dialog = a.getByTestId('task-dialog');
  await dialog.getByTestId('field-title').fill(xss);
  await dialog.getByTestId('field-tags').fill('<b>bold</b>');
  await dialog.getByTestId('save-task').click();
  await dialog.waitFor({ state: 'detached' });
  for (const page of [a, b]) {
    const title = page.locator('[data-testid="card-title"]', { hasText: xss });
    await within(title, LIVE_MS, 'the XSS title');
    assert.equal(await title.textContent(), xss);
    assert.equal(await page.locator('[data-testid="board"] img, [data-testid="event-feed"] img, [data-testid="board"] b').count(), 0);
  }
  await a.waitForTimeout(300);
  assert.equal(dialogs, 0, 'no alert() ran');
  assert.equal(await a.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await shot(a, 'dashboard-board-dark');
  await a.getByTestId('theme-toggle').click();
  assert.equal(await a.evaluate(() => document.documentElement.dataset.theme), 'light');
  await shot(a, 'dashboard-board-light');
  await a.getByTestId('theme-toggle').click();
  assert.equal(await a.evaluate(() => localStorage.getItem('mc.theme')), 'dark');
});

test('filters narrow the board and show counts', async () => {
  await a.getByTestId('filter-search').fill('vector');
  await a.locator('[data-testid="task-card"]').first().waitFor();
  assert.equal(await a.locator('[data-testid="task-card"]').count(), 1);
  await a.getByTestId('filter-search').fill('');
  await a.getByTestId('filter-agent').selectOption('agent-nova');
  assert.equal(await a.locator('[data-testid="task-card"]').count(), 1);
  await a.getByTestId('filter-agent').selectOption('');
  await a.getByTestId('filter-priority').selectOption('high');
  assert.equal(await a.locator('[data-testid="task-card"]').count(), 1);
  await a.getByTestId('filter-clear').click();
  await a.getByTestId('filter-tag').selectOption('research');
  assert.equal(await a.locator('[data-testid="task-card"]').count(), 1);
  await a.getByTestId('filter-clear').click();
  assert.equal(await a.locator('[data-testid="task-card"]').count(), 3);
});

test('a reload keeps the session and the board', async () => {
  const before = await a.locator('[data-testid="task-card"]').evaluateAll((els) => els.map((e) => `${e.dataset.taskId}:${e.dataset.status}`).sort());
  await a.reload();
  await a.getByTestId('board').waitFor();
  await a.locator('[data-testid="task-card"]').first().waitFor();
  const afterReload = await a.locator('[data-testid="task-card"]').evaluateAll((els) => els.map((e) => `${e.dataset.taskId}:${e.dataset.status}`).sort());
  assert.deepEqual(afterReload, before);
  assert.equal(before.length, 3);
  await a.locator('[data-testid="connection-status"][data-state="connected"]').waitFor({ timeout: 10_000 });
});

test('edits and deletes from the dialog reach the other tab', async () => {
  const title = 'Benchmark the vector index';
  await card(a, title).click();
  const dialog = a.getByTestId('task-dialog');
  await dialog.getByTestId('field-title').fill(`${title} (v2)`);
  await dialog.getByTestId('save-task').click();
  await dialog.waitFor({ state: 'detached' });
  await within(card(b, `${title} (v2)`), LIVE_MS, 'edit in the second tab');

  await card(a, `${title} (v2)`).click();
  await dialog.getByTestId('delete-task').click();
  await dialog.getByTestId('confirm-delete').click();
  await dialog.waitFor({ state: 'detached' });
  await card(b, `${title} (v2)`).waitFor({ state: 'detached', timeout: LIVE_MS });
});

test('a dropped connection shows a banner, and the reconnect catches up on what was missed', async () => {
  const ctxB = b.context();
  await ctxB.setOffline(true);
  await bLink.cut();
  await b.getByTestId('connection-banner').waitFor({ timeout: 10_000 });
  await shot(b, 'dashboard-disconnected');

  const title = 'Created while you were away';
  const res = await server.request('POST', '/api/tasks', { title, status: 'in-progress', priority: 'low' }, server.token);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  await within(card(a, title), LIVE_MS, 'the connected tab still gets it live');
  await b.waitForTimeout(500);
  assert.equal(await card(b, title).count(), 0, 'the offline tab cannot have it yet');

  bLink.restore();
  await ctxB.setOffline(false);
  await b.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 15_000 });
  const ms = await within(card(b, title), 5000, 'the catch-up after reconnect');
  console.log(`# after reconnect the catch-up showed the missed task ${ms} ms after the banner went`);
  // The task and its feed line at least: the banner says how many it caught up on.
  await within(b.getByTestId('reconnect-banner'), 5000, 'the reconnect banner');
  assert.match(await b.getByTestId('reconnect-text').textContent(), /^Back online\. Caught up on ([2-9]|\d\d+) changes made while the connection was down\.$/);
  assert.equal(await cardStatus(b, title), 'in-progress');
  // And live updates flow again.
  const live = 'Live again after the reconnect';
  await server.request('POST', '/api/tasks', { title: live }, server.token);
  await within(card(b, live), LIVE_MS, 'live updates after the reconnect');
  await shot(b, 'dashboard-reconnected');
});

test('the board works at phone width', async () => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const page = await signIn(ctx);
  await page.locator('[data-testid="task-card"]').first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page does not scroll sideways at phone width (overflow ${overflow}px)`);
  await shot(page, 'dashboard-phone');
  await page.getByTestId('sign-out').click();
  await page.getByTestId('login-form').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('mc.token')), null);
  await ctx.close();
});

test('signing out in one tab signs out the other tabs of the same browser', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const first = await signIn(ctx);
  const second = await ctx.newPage(); // same storage: the same session and token
  await second.goto(server.url);
  await second.locator('[data-testid="connection-status"][data-state="connected"]').waitFor({ timeout: 10_000 });
  await first.getByTestId('sign-out').click();
  await first.getByTestId('login-form').waitFor();
  // The server ends the second tab's live connection; its token is refused when it reconnects,
  // and the tab returns to the sign-in form instead of showing a board that no longer updates.
  await within(second.getByTestId('login-form'), 10_000, 'the other tab back at sign-in');
  await ctx.close();
});
