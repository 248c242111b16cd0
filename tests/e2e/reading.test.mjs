// The dashboard reads well, in headless Chromium against the real server: done cards look done,
// long titles are clamped (in full in the dialog), only telling priority badges, counts follow
// the filters, feed lines show the server's words, one column at a time at phone width with
// agents and activity behind a toggle, an explained live indicator, and a sign-in page that says
// where the password comes from and waits out a 429's Retry-After. Screenshots at 1440x900 and
// 390x844 go to tests/artifacts/; UPDATE_SCREENSHOTS=1 also refreshes the README's two.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, ADMIN } from '../lib/server.mjs';
import { DESKTOP, LIVE_MS, PHONE, card, launchBrowser, shot, signIn, within } from './browser.mjs';

const COLUMN_NAMES = ['Backlog', 'To do', 'In progress', 'Done'];
const LONG_TITLE =
  'Find out why the nightly import sometimes stalls for minutes on the large CSV exports from the finance team, then add a timeout, a progress line in the log and a retry with backoff';
const QUOTED_TITLE = 'Fix “remember me” on the sign-in page';

let server;
let browser;
/** Task ids by title, and agent tokens by agent id, as seeded. */
const ids = {};
const agentTokens = {};

async function api(method, path, body, token = server.token) {
  const res = await server.request(method, path, body, token);
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A small board like a real one: three agents, tasks in every column, a feed with moves. */
async function seed() {
  const agents = [
    ['agent-nova', 'Nova', 'Research', '#10b981', 'online'],
    ['agent-bolt', 'Bolt', 'Ops', '#f59e0b', 'busy'],
    ['agent-iris', 'Iris', 'Dev', '#ec4899', 'online'],
  ];
  for (const [id, name, role, avatarColor, status] of agents) {
    await api('POST', '/api/agents', { id, name, role, avatarColor, status });
    agentTokens[id] = (await api('POST', '/api/auth/tokens', { agentId: id })).token;
  }
  // [title, by, final status, priority, tags]; each is created in the backlog and moved on, so
  // the feed carries the server's "moved" lines too.
  const tasks = [
    ['Write the onboarding guide for new agents', 'agent-iris', 'backlog', 'low', ['docs']],
    ['Evaluate a vector store for long-term memory', 'agent-nova', 'backlog', 'medium', ['research']],
    [LONG_TITLE, 'agent-bolt', 'todo', 'high', ['ops', 'import']],
    [QUOTED_TITLE, 'agent-iris', 'todo', 'critical', ['bug', 'auth']],
    ['Rate-limit the public API', 'agent-bolt', 'todo', 'medium', ['backend']],
    ['Benchmark the board with 10,000 tasks', 'agent-bolt', 'in-progress', 'high', ['perf']],
    ["Summarise this week's support tickets", 'agent-nova', 'in-progress', 'medium', ['support']],
    ['Set up nightly backups', 'agent-bolt', 'done', 'high', ['ops']],
    ['Ship the dark theme', 'agent-iris', 'done', 'medium', ['frontend']],
  ];
  for (const [title, by, status, priority, tags] of tasks) {
    const { task } = await api('POST', '/api/tasks', { title, priority, tags, assignedAgent: by }, agentTokens[by]);
    ids[title] = task.id;
    if (status !== 'backlog') await api('PATCH', `/api/tasks/${task.id}`, { status }, agentTokens[by]);
  }
}

before(async () => {
  browser = await launchBrowser();
  server = await startServer();
  await seed();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Whether a person sees `locator` (a visually hidden, screen-reader-only element does not count). */
async function seen(locator) {
  const b = await locator.boundingBox();
  return !!b && b.width > 20 && b.height > 10 && (await locator.isVisible());
}

/** The line height and the rendered height of an element, in CSS pixels. */
function box(locator) {
  return locator.evaluate((el) => ({
    lineHeight: parseFloat(getComputedStyle(el).lineHeight),
    height: el.getBoundingClientRect().height,
    clientHeight: el.clientHeight,
    scrollHeight: el.scrollHeight,
  }));
}

test('the sign-in page says where the first password comes from', async () => {
  for (const [name, options] of [['login-desktop', DESKTOP], ['login-phone', PHONE]]) {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    await page.goto(server.url);
    const help = page.getByTestId('login-help');
    await help.waitFor();
    const text = await help.textContent();
    assert.match(text, /admin/);
    assert.match(text, /printed once in its terminal when it first started/);
    assert.match(text, /mission-control-server reset-admin-password/);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${name}: no sideways scrolling (overflow ${overflow}px)`);
    await shot(page, name);
    await context.close();
  }
});

test("a 429 from sign-in counts down the server's Retry-After, then the sign-in goes through", async () => {
  // Twelve attempts a minute: once they are used up the next is allowed within 5 s.
  const limited = await startServer({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '12' } });
  const context = await browser.newContext(PHONE);
  try {
    const page = await context.newPage();
    await page.goto(limited.url);
    await page.getByTestId('login-username').fill(ADMIN.username);
    await page.getByTestId('login-password').fill('not-the-password');
    const submit = page.getByTestId('login-submit');
    let retryAfter = null;
    let answeredAt = 0;
    for (let i = 0; i < 40 && retryAfter === null; i++) {
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/auth/login'));
      await submit.click();
      const res = await answer;
      answeredAt = Date.now();
      if (res.status() === 429) retryAfter = Number(res.headers()['retry-after']);
      else {
        assert.equal(res.status(), 401);
        await page.getByTestId('login-error').waitFor();
      }
    }
    assert.ok(retryAfter >= 1 && retryAfter <= 5, `Retry-After ${retryAfter}`);

    await page.getByTestId('login-rate-limited').waitFor();
    assert.match(await page.getByTestId('login-rate-limited').textContent(), new RegExp(`Wait ${retryAfter} s before trying again`));
    assert.ok(await submit.isDisabled(), 'the button waits');
    const label = await submit.textContent();
    const shown = Number(/^Try again in (\d+) s$/.exec(label)?.[1]);
    assert.ok(shown >= 1 && shown <= retryAfter, `the button counts down from Retry-After (${label}, Retry-After ${retryAfter})`);
    await shot(page, 'login-rate-limited-phone');

    // Typing the right password does not skip the wait.
    await page.getByTestId('login-password').fill(ADMIN.password);
    await page.getByTestId('login-password').press('Enter');
    assert.ok(await submit.isDisabled());
    await page.waitForFunction(() => !document.querySelector('[data-testid="login-submit"]').disabled, null, { timeout: (retryAfter + 3) * 1000 });
    const waited = Date.now() - answeredAt;
    assert.ok(waited >= retryAfter * 1000 - 250, `enabled after ${waited} ms, Retry-After ${retryAfter} s`);
    await page.getByTestId('login-can-retry').waitFor();
    assert.equal(await submit.textContent(), 'Sign in');
    await submit.click();
    await page.getByTestId('board').waitFor({ timeout: 5000 });
  } finally {
    await context.close();
    await limited.stop();
  }
});

test('the board reads well at 1440x900', async () => {
  const context = await browser.newContext({ ...DESKTOP, colorScheme: 'dark' });
  const page = await signIn(context, server.url);
  await card(page, LONG_TITLE).waitFor();

  // The columns carry the names people see, and so does the dialog.
  assert.deepEqual(await page.locator('.column__title').allTextContents(), COLUMN_NAMES);
  assert.equal(await page.getByTestId('board').getAttribute('data-compact'), null);

  // Done cards look done: a check, muted text.
  const doneCards = page.locator('[data-testid="column-done"] [data-testid="task-card"]');
  assert.equal(await doneCards.count(), 2);
  for (const c of await doneCards.all()) assert.ok(await c.getByTestId('card-done').isVisible(), 'a done card has a check');
  assert.equal(await page.locator('[data-testid="column-todo"] [data-testid="card-done"]').count(), 0);
  const colour = (title) => card(page, title).getByTestId('card-title').evaluate((el) => getComputedStyle(el).color);
  assert.notEqual(await colour('Set up nightly backups'), await colour('Rate-limit the public API'), 'done titles are muted');

  // Only priorities that say something get a badge; medium is everyone's default.
  assert.equal(await card(page, 'Rate-limit the public API').getByTestId('card-priority').count(), 0);
  assert.equal(await card(page, QUOTED_TITLE).getByTestId('card-priority').textContent(), 'Critical');
  assert.equal(await card(page, 'Write the onboarding guide').getByTestId('card-priority').textContent(), 'Low');
  assert.equal(await page.locator('.prio--medium').count(), 0);

  // A long title stops at three lines on its card; the dialog shows all of it.
  const longTitle = card(page, LONG_TITLE).getByTestId('card-title');
  assert.equal(await longTitle.textContent(), LONG_TITLE);
  const t = await box(longTitle);
  assert.ok(t.height <= t.lineHeight * 3 + 1, `clamped to 3 lines (${t.height}px at ${t.lineHeight}px a line)`);
  assert.ok(t.scrollHeight > t.clientHeight + 1, 'and there is more to it');
  await card(page, LONG_TITLE).click();
  const dialog = page.getByTestId('task-dialog');
  await dialog.waitFor();
  const field = dialog.getByTestId('field-title');
  assert.equal(await field.inputValue(), LONG_TITLE);
  const f = await box(field);
  assert.ok(f.scrollHeight <= f.clientHeight + 1, `the whole title shows in the dialog (${f.scrollHeight} > ${f.clientHeight})`);
  assert.deepEqual(await dialog.locator('[data-testid="field-status"] option').allTextContents(), COLUMN_NAMES);
  await shot(page, 'board-desktop-dialog');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });

  // The feed shows the server's messages word for word, at most two lines each.
  const { events } = await api('GET', '/api/events?limit=100');
  const lines = page.getByTestId('event-message');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="event-message"]').length === n, events.length);
  assert.deepEqual(await lines.allTextContents(), events.map((e) => e.message));
  for (const line of await lines.all()) {
    const l = await box(line);
    assert.ok(l.height <= l.lineHeight * 2 + 1, `a feed line is at most two lines (${l.height}px)`);
    assert.equal(await line.getAttribute('title'), await line.textContent(), 'the full message on hover');
  }
  const longLine = page.locator(`[data-testid="event-item"][data-task-id="${ids[LONG_TITLE]}"] [data-testid="event-message"]`).first();
  const ll = await box(longLine);
  assert.ok(ll.scrollHeight > ll.clientHeight + 1, 'a message with the long title is clamped');
  assert.ok((await lines.allTextContents()).some((m) => m.includes(QUOTED_TITLE)), 'quoted titles come through as they are');

  // The count follows the filters.
  const total = page.getByTestId('task-total');
  assert.equal(await total.textContent(), '9 tasks');
  await page.getByTestId('filter-search').fill('the');
  await page.waitForFunction(() => /of 9 tasks$/.test(document.querySelector('[data-testid="task-total"]').textContent));
  const shown = await page.locator('[data-testid="task-card"]').count();
  assert.equal(await total.textContent(), `${shown} of 9 tasks`);
  assert.equal(await page.getByTestId('count-done').getAttribute('aria-label'), `${await page.locator('[data-testid="column-done"] [data-testid="task-card"]').count()} of 2 tasks`);
  await page.getByTestId('filter-clear').click();
  assert.equal(await total.textContent(), '9 tasks');

  // The live indicator explains itself: a tooltip, an accessible description, a note on click.
  const live = page.getByTestId('connection-status');
  assert.equal(await live.textContent(), 'Live');
  assert.match(await live.getAttribute('title'), /appear on this board as they happen/);
  const describedBy = await live.getAttribute('aria-describedby');
  assert.match(await page.locator(`#${describedBy}`).textContent(), /Live: connected to the server/);
  const help = page.getByTestId('connection-help');
  assert.ok(!(await seen(help)), 'the note is for screen readers until asked for');
  await live.click();
  assert.ok(await seen(help));
  assert.equal(await live.getAttribute('aria-expanded'), 'true');
  await shot(page, 'board-desktop-live-help');
  await page.keyboard.press('Escape');
  assert.ok(!(await seen(help)));

  await page.mouse.move(0, 899);
  await page.locator(':focus').evaluate((el) => el.blur()).catch(() => {});
  await shot(page, 'board-desktop', { docs: true });
  await page.getByTestId('theme-toggle').click();
  await page.waitForTimeout(300); // the colours' transitions
  await shot(page, 'board-desktop-light');
  await page.getByTestId('theme-toggle').click();
  await context.close();
});

test('at 390x844 the board gets the screen: one column at a time, agents and activity behind a toggle', async () => {
  const context = await browser.newContext({ ...PHONE, colorScheme: 'dark' });
  const page = await signIn(context, server.url);
  const board = page.getByTestId('board');
  assert.equal(await board.getAttribute('data-compact'), 'true');

  // Tabs name the columns and count their cards; the board opens on In progress.
  const tabs = page.getByRole('tab');
  assert.equal(await tabs.count(), 4);
  const tabText = await tabs.allTextContents();
  assert.deepEqual(tabText, ['Backlog2', 'To do3', 'In progress2', 'Done2']);
  assert.equal(await page.getByTestId('tab-in-progress').getAttribute('aria-selected'), 'true');
  assert.equal(await page.locator('.column').count(), 1, 'one column on screen');
  const column = await page.getByTestId('column-in-progress').boundingBox();
  assert.ok(column.width >= 390 - 2 * 12 - 1, `the column takes the width (${column.width}px)`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `no sideways scrolling (overflow ${overflow}px)`);

  // Agents and activity wait behind the toggle.
  assert.equal(await page.getByTestId('agents-panel').count(), 0);
  assert.equal(await page.getByTestId('event-feed').count(), 0);
  const toggle = page.getByTestId('side-toggle');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await page.mouse.move(0, 0);
  await shot(page, 'board-phone-in-progress');

  // Another column is a tap away, and the choice is kept.
  await page.getByTestId('tab-todo').tap();
  await card(page, QUOTED_TITLE).waitFor();
  assert.equal(await page.getByTestId('column-in-progress').count(), 0);
  const t = await box(card(page, LONG_TITLE).getByTestId('card-title'));
  assert.ok(t.height <= t.lineHeight * 3 + 1, `clamped on a phone too (${t.height}px)`);
  assert.equal(await page.evaluate(() => localStorage.getItem('mc.column')), 'todo');
  await shot(page, 'board-phone', { docs: true });
  await page.getByTestId('tab-done').tap();
  for (const c of await page.locator('[data-testid="task-card"]').all()) assert.ok(await c.getByTestId('card-done').isVisible());

  // The keyboard moves a card to another column, and the board follows it there.
  await page.getByTestId('tab-todo').tap();
  const rate = card(page, 'Rate-limit the public API');
  await rate.focus();
  await page.keyboard.press('Space');
  await page.keyboard.press('ArrowRight');
  assert.ok((await page.getByTestId('tab-in-progress').getAttribute('class')).includes('board-tab--target'), 'the target tab is marked');
  await page.keyboard.press('Space');
  await page.getByTestId('column-in-progress').waitFor();
  await page.waitForFunction(() => document.activeElement?.matches('[data-testid="task-card"][data-status="in-progress"]'));
  assert.equal(await page.locator(':focus [data-testid="card-title"]').textContent(), 'Rate-limit the public API');
  assert.match(await page.getByTestId('announcer').textContent(), /^Moved “Rate-limit the public API” to In progress\.$/);

  // An agent's write shows live in the tab counts and puts a dot on the toggle.
  await page.getByTestId('tab-done').tap();
  await api('POST', '/api/tasks', { title: 'Profile the Socket.io fan-out', priority: 'high' }, agentTokens['agent-bolt']);
  await within(page.locator('[data-testid="tab-backlog"]', { hasText: 'Backlog3' }), LIVE_MS, 'the tab count, live');
  await within(page.getByTestId('side-toggle-unseen'), LIVE_MS, 'the new-activity dot');

  await toggle.tap();
  await page.getByTestId('agents-panel').waitFor();
  await page.getByTestId('event-feed').waitFor();
  assert.ok(!(await board.isVisible()), 'the sheet takes the screen');
  assert.equal(await page.locator('[data-testid="event-item"]').first().textContent().then((s) => s.includes('Profile the Socket.io fan-out')), true);
  await shot(page, 'board-phone-activity');
  await page.getByTestId('side-close').tap();
  await board.waitFor();
  assert.equal(await page.getByTestId('side-toggle-unseen').count(), 0, 'seen');
  // Focus goes back to the toggle once the sheet has closed (an effect after the render).
  await page.waitForFunction(() => document.activeElement?.dataset.testid === 'side-toggle', null, { timeout: LIVE_MS })
    .catch(() => {});
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'side-toggle');

  // Tapping an agent in the sheet filters the board to its tasks and returns to it.
  await toggle.tap();
  await page.locator('[data-testid="agent-item"][data-agent-id="agent-nova"] [data-testid="agent-pick"]').tap();
  await board.waitFor();
  assert.equal(await page.getByTestId('filter-agent').inputValue(), 'agent-nova');
  assert.match(await page.getByTestId('task-total').textContent(), /^2 of 10 tasks$/);
  await page.getByTestId('filter-clear').tap();

  // The live indicator says what it means, on a tap too.
  const live = page.getByTestId('connection-status');
  assert.equal(await live.textContent(), 'Live');
  await live.tap();
  const help = page.getByTestId('connection-help');
  assert.ok(await seen(help));
  assert.match(await help.textContent(), /Changes made by agents and other people appear/);
  await shot(page, 'board-phone-live-help');
  await page.getByTestId('tab-backlog').tap();
  assert.ok(!(await seen(help)), 'a tap elsewhere closes the note');

  // Offline: "Reconnecting…", and the description says what that means.
  await context.setOffline(true);
  await page.locator('[data-testid="connection-status"][data-state="disconnected"]').waitFor({ timeout: 10_000 });
  assert.equal(await live.textContent(), 'Reconnecting…');
  assert.match(await page.locator(`#${await live.getAttribute('aria-describedby')}`).textContent(), /^Reconnecting: the live connection to the server is down/);
  const offlineOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(offlineOverflow <= 1, `the top bar still fits (overflow ${offlineOverflow}px)`);
  await shot(page, 'board-phone-reconnecting');
  await context.setOffline(false);
  await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor({ timeout: 15_000 });
  await context.close();
});
