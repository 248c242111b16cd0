// Agents at work, seen on the dashboard in headless Chromium against the real server: a claim's
// lease counting down on its card, a blocked card naming what it waits for (and set in the
// dialog), notes arriving live, a write refused with 412 showing the card as it is now and who
// changed it, 409 answers in words, presence the server computes, a dropped connection resuming
// from its last seq (and, when the log cannot reach back, reloading), and the operator's control
// over agents: tokens listed and revoked (ending that token's live session), agents removed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { io } from 'socket.io-client';
import { startServer } from '../lib/server.mjs';
import { DESKTOP, card, cardStatus, launchBrowser, liveLink, shot, signIn, signInWithToken, until, within } from './browser.mjs';

let server;
let browser;
/** The operator's tab, and a second tab (another browser) whose live link the tests control. */
let op;
let watcher;
let link;
const tokens = {};
/**
 * How long these tests wait for a live change. They check what arrives, not how fast (the
 * latency is printed, and dashboard.test.mjs holds the one-second target): the machine they run
 * on is shared and often loaded.
 */
const LIVE_WAIT = 5000;
const USERS = {
  'agent-nova': { id: 'agent-nova', name: 'Nova', role: 'Research' },
  'agent-bolt': { id: 'agent-bolt', name: 'Bolt', role: 'Ops' },
};

async function api(method, path, body, token = server.token) {
  const res = await server.request(method, path, body, token);
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The id the server lists a token under: hex SHA-256 of its `jti`. */
function tokenId(token) {
  const { jti } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  return createHash('sha256').update(jti).digest('hex');
}

function column(page, status) {
  return page.locator(`[data-testid="column-${status}"] .column__body`);
}

/** The paths `page` requests from now on, until `stop()`. */
function recordRequests(page) {
  const paths = [];
  const onRequest = (r) => paths.push(new URL(r.url()).pathname);
  page.on('request', onRequest);
  return { paths, stop: () => page.off('request', onRequest) };
}

async function openCard(page, title) {
  await card(page, title).click();
  const dialog = page.getByTestId('task-dialog');
  await dialog.waitFor();
  return dialog;
}

async function closeDialog(page) {
  await page.keyboard.press('Escape');
  await page.getByTestId('task-dialog').waitFor({ state: 'detached' });
}

before(async () => {
  browser = await launchBrowser();
  server = await startServer();
  for (const [id, { name, role }] of Object.entries(USERS)) {
    await api('POST', '/api/agents', { id, name, role });
    tokens[id] = (await api('POST', '/api/auth/tokens', { agentId: id })).token;
  }
  op = await signIn(await browser.newContext(DESKTOP), server.url);
  const watcherContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  link = await liveLink(watcherContext);
  watcher = await signIn(watcherContext, server.url);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("a claim made over REST shows its lease counting down; another agent's move is refused in words", async () => {
  const title = 'Index the support tickets';
  const { task } = await api('POST', '/api/tasks', { title, status: 'todo', priority: 'high' });
  await card(op, title).waitFor();
  await api('POST', `/api/tasks/${task.id}/claim`, { leaseSeconds: 600 }, tokens['agent-nova']);

  const left = card(op, title).getByTestId('lease-left');
  const ms = await within(left, LIVE_WAIT, 'the countdown on the claimed card');
  console.log(`# the claim's countdown showed ${ms} ms after the REST answer`);
  const first = await left.textContent();
  assert.match(first, /^(9:5\d|10:00) left$/);
  assert.equal(await cardStatus(op, title), 'in-progress');
  assert.match(await card(op, title).getAttribute('aria-label'), /claimed by Nova$/);
  assert.match(await card(op, title).getByTestId('lease').getAttribute('title'), /^Claimed by Nova; the lease ends at .+ unless Nova renews it/);
  await until(async () => (await left.textContent()) !== first, 5000, 'the countdown counts down');
  await within(card(watcher, title).getByTestId('lease-left'), LIVE_WAIT, 'the countdown in the other tab');

  const dialog = await openCard(op, title);
  assert.match(await dialog.getByTestId('dialog-claim').textContent(), /^Claimed by Nova: .*\d+:\d\d left.*Only Nova or the operator can move, reassign or delete it meanwhile\.$/);
  await shot(op, 'agents-claim-dialog');
  await closeDialog(op);
  await shot(op, 'agents-claim-countdown');

  // Bolt, signed in with its own token, cannot move a task Nova holds: the dashboard says why.
  const boltContext = await browser.newContext(DESKTOP);
  const bolt = await signInWithToken(boltContext, server.url, tokens['agent-bolt'], USERS['agent-bolt']);
  assert.equal(await bolt.getByTestId('agent-manage').count(), 0, 'only the operator manages agents');
  await card(bolt, title).dragTo(column(bolt, 'done'));
  const toast = bolt.getByTestId('toast');
  await toast.waitFor();
  assert.match(await toast.textContent(), /^Nova holds “Index the support tickets” for another \d+ min( \d+ s)? \(until .+\): only Nova or the operator can move, reassign or delete it meanwhile\.$/);
  await until(async () => (await cardStatus(bolt, title)) === 'in-progress', 2000, 'the refused move reverted');
  await shot(bolt, 'agents-held-refused');
  await boltContext.close();

  await api('POST', `/api/tasks/${task.id}/release`, undefined, tokens['agent-nova']);
  await card(op, title).getByTestId('lease').waitFor({ state: 'detached', timeout: LIVE_WAIT });
  assert.equal(await cardStatus(op, title), 'todo');
});

test('a blocked card names what it waits for; blockers are set in the dialog; a move it cannot make says why', async () => {
  const blocker = 'Fix the flaky login test';
  const blocked = 'Ship the release';
  const a = (await api('POST', '/api/tasks', { title: blocker, status: 'todo' })).task;
  await api('POST', '/api/tasks', { title: blocked, status: 'todo' });
  await card(op, blocked).waitFor();

  let dialog = await openCard(op, blocked);
  await dialog.getByTestId('blocker-search').fill('flaky');
  await dialog.locator(`[data-testid="blocker-match"][data-task-id="${a.id}"]`).click();
  assert.equal(await dialog.getByTestId('blocker').count(), 1);
  assert.match(await dialog.getByTestId('blocker').textContent(), /Fix the flaky login test.*To do/);
  await dialog.getByTestId('save-task').click();
  await dialog.waitFor({ state: 'detached' });

  for (const page of [op, watcher]) {
    await within(card(page, blocked).getByTestId('card-blocked'), LIVE_WAIT, 'the blocked badge');
    assert.equal(await card(page, blocked).getByTestId('card-waits-for').textContent(), 'Waits for “Fix the flaky login test”');
  }
  await shot(op, 'agents-blocked-card');

  // The server refuses to start it; the dashboard says what it waits for.
  await card(op, blocked).dragTo(column(op, 'in-progress'));
  const toast = op.getByTestId('toast');
  await toast.waitFor();
  assert.equal(await toast.textContent(), '“Ship the release” waits for “Fix the flaky login test”: it can move to In progress or Done once that is done.');
  await until(async () => (await cardStatus(op, blocked)) === 'todo', 2000, 'the refused move reverted');

  // A cycle is refused at the field.
  dialog = await openCard(op, blocker);
  await dialog.getByTestId('blocker-search').fill('Ship the');
  await dialog.getByTestId('blocker-match').first().click();
  await dialog.getByTestId('save-task').click();
  await dialog.getByTestId('error-blockedBy').waitFor();
  assert.match(await dialog.getByTestId('error-blockedBy').textContent(), /already waits for this task/);
  await closeDialog(op);

  // Its blocker done, the card is unblocked live, and the feed says so.
  await api('PATCH', `/api/tasks/${a.id}`, { status: 'done' }, tokens['agent-nova']);
  await card(watcher, blocked).getByTestId('card-blocked').waitFor({ state: 'detached', timeout: LIVE_WAIT });
  await within(watcher.getByTestId('event-message').filter({ hasText: '“Ship the release” is unblocked: “Fix the flaky login test” is done' }), LIVE_WAIT, 'the unblocked line');
});

test('two tabs edit the same card: the second is shown the card as it is now and who changed it, and nothing is overwritten', async () => {
  const title = 'Write the incident report';
  const { task } = await api('POST', '/api/tasks', { title, status: 'todo' });
  await card(watcher, title).waitFor();
  const mine = await openCard(op, title);
  const theirs = await openCard(watcher, title);

  await mine.getByTestId('field-title').fill(`${title} for March`);
  await mine.getByTestId('save-task').click();
  await mine.waitFor({ state: 'detached' });

  await within(theirs.getByTestId('changed-elsewhere'), LIVE_WAIT, 'the other tab is told its dialog is out of date');
  await theirs.getByTestId('field-description').fill('Timeline first, then the causes.');
  await theirs.getByTestId('save-task').click();
  const notice = theirs.getByTestId('conflict-notice');
  await notice.waitFor();
  assert.equal(await notice.getByTestId('conflict-by').textContent(), 'you, in another tab or window');
  assert.equal(await notice.getByTestId('current-title').textContent(), `${title} for March`);
  assert.equal(await notice.getByTestId('current-card').getAttribute('data-version'), '2');
  assert.equal((await api('GET', `/api/tasks/${task.id}`)).task.description, null, 'the stale write changed nothing');
  await shot(watcher, 'agents-conflict-dialog');

  // Keeping one's changes puts them on top of the current version; saving applies both.
  await theirs.getByTestId('conflict-keep-mine').click();
  assert.equal(await theirs.getByTestId('field-title').inputValue(), `${title} for March`);
  assert.equal(await theirs.getByTestId('field-description').inputValue(), 'Timeline first, then the causes.');
  await theirs.getByTestId('save-task').click();
  await theirs.waitFor({ state: 'detached' });
  const saved = (await api('GET', `/api/tasks/${task.id}`)).task;
  assert.equal(saved.title, `${title} for March`);
  assert.equal(saved.description, 'Timeline first, then the causes.');
  assert.equal(saved.version, 3);
});

test("a drag made from an out-of-date card is refused with the card as it is now, and who changed it", async () => {
  const title = 'Rotate the API keys';
  const { task } = await api('POST', '/api/tasks', { title, status: 'todo' });
  await card(watcher, title).waitFor();
  await until(() => link.upgraded(), 10_000, 'the live connection on a WebSocket');

  // The other tab's live updates are late (a slow network) while Nova moves the card.
  link.hold();
  try {
    await api('PATCH', `/api/tasks/${task.id}`, { status: 'in-progress' }, tokens['agent-nova']);
    await op.locator('[data-testid="column-in-progress"] [data-testid="task-card"]', { hasText: title }).waitFor({ timeout: LIVE_WAIT });
    assert.equal(await cardStatus(watcher, title), 'todo', 'the late tab still shows the old card');
    await card(watcher, title).dragTo(column(watcher, 'done'));
    const notice = watcher.getByTestId('move-conflict');
    await notice.waitFor();
    assert.equal(await notice.getByTestId('conflict-by').textContent(), 'Nova');
    assert.equal(await notice.getByTestId('current-status').textContent(), 'In progress');
    assert.match(await notice.textContent(), /Your move to Done did not reach the task, so nothing was overwritten/);
    // The board shows the card as it is now, marked.
    await until(async () => (await cardStatus(watcher, title)) === 'in-progress', 2000, 'the card as it is now');
    assert.match(await card(watcher, title).getAttribute('class'), /card--flagged/);
    assert.equal((await api('GET', `/api/tasks/${task.id}`)).task.status, 'in-progress');
    await shot(watcher, 'agents-conflict-move');
  } finally {
    link.release();
  }
  await watcher.getByTestId('conflict-move-anyway').click();
  await until(async () => (await api('GET', `/api/tasks/${task.id}`)).task.status === 'done', 3000, 'moved on purpose');
  await within(op.locator('[data-testid="column-done"] [data-testid="task-card"]', { hasText: title }), LIVE_WAIT, 'the move in the other tab');
});

test('notes posted in one tab, or by an agent, appear live in the other', async () => {
  const title = 'Summarise the user interviews';
  const { task } = await api('POST', '/api/tasks', { title, status: 'in-progress' });
  await card(watcher, title).waitFor();
  const mine = await openCard(op, title);
  const theirs = await openCard(watcher, title);
  await theirs.getByText('No notes yet').waitFor();

  await mine.getByTestId('note-input').fill('Started: 3 of 12 done.\nNext: the rest.');
  await mine.getByTestId('note-add').click();
  await mine.getByTestId('note').first().waitFor();
  assert.equal(await mine.getByTestId('note-input').inputValue(), '');
  const ms = await within(theirs.getByTestId('note').first(), LIVE_WAIT, 'the note in the other tab');
  console.log(`# a note showed in the other tab ${ms} ms after it was posted`);
  assert.equal(await theirs.getByTestId('note-text').first().textContent(), 'Started: 3 of 12 done.\nNext: the rest.');
  assert.equal(await theirs.getByTestId('note-author').first().textContent(), 'Patch');

  await api('POST', `/api/tasks/${task.id}/comments`, { text: 'Found a pattern: onboarding is too long.' }, tokens['agent-nova']);
  for (const dialog of [mine, theirs]) {
    await within(dialog.getByTestId('note').nth(1), LIVE_WAIT, "the agent's note");
    assert.deepEqual(await dialog.getByTestId('note-author').allTextContents(), ['Patch', 'Nova']);
  }
  await shot(watcher, 'agents-notes');
  await closeDialog(op);
  await closeDialog(watcher);

  // Reopened, the dialog reads them from the server.
  const again = await openCard(op, title);
  await again.getByTestId('note').nth(1).waitFor();
  assert.equal(await again.getByTestId('note').count(), 2);
  await closeDialog(op);
});

test('a dropped connection resumes from its last seq: the banner says how many changes it caught up on, and the board is not fetched again', async () => {
  await until(() => link.upgraded(), 10_000, 'the live connection on a WebSocket');
  const requests = recordRequests(watcher);
  const seen = Math.max(...link.events().map((e) => e.data?.seq ?? 0));
  const connectsBefore = link.connects().length;

  // The transport drops, as on a flaky network: the page's own client notices and retries.
  await link.cut();
  const away = ['Made while you were away', 'Also made while away'];
  try {
    await watcher.getByTestId('connection-banner').waitFor({ timeout: 10_000 });
    const created = [];
    for (const title of away) created.push((await api('POST', '/api/tasks', { title, status: 'todo' }, tokens['agent-bolt'])).task);
    await api('PATCH', `/api/tasks/${created[0].id}`, { status: 'done' }, tokens['agent-bolt']);
    await api('PATCH', '/api/agents/agent-bolt', { status: 'busy' }, tokens['agent-bolt']);
    await within(card(op, away[1]), LIVE_WAIT, 'the connected tab has them live');
    assert.equal(await card(watcher, away[0]).count(), 0, 'the cut tab does not');
  } finally {
    link.restore();
  }
  const banner = watcher.getByTestId('reconnect-banner');
  await within(banner, 15_000, 'the reconnect banner');
  const resumed = link.events('resumed').at(-1)?.data;
  assert.ok(resumed, 'the server said resumed');
  const connect = link.connects().at(-1);
  assert.ok(link.connects().length > connectsBefore);
  assert.equal(connect.since, seen, 'the reconnect resumes from the last seq the page saw');
  assert.equal(resumed.since, seen);
  // Two tasks and a move (each with its feed line), and Bolt's status (with its line): 8 at least.
  assert.ok(resumed.replayed >= 8, `replayed ${resumed.replayed}`);
  assert.equal(await banner.getByTestId('reconnect-text').textContent(), `Back online. Caught up on ${resumed.replayed} changes made while the connection was down.`);
  await shot(watcher, 'agents-resumed');

  await card(watcher, away[1]).waitFor();
  assert.equal(await cardStatus(watcher, away[0]), 'done');
  assert.equal(await watcher.locator('[data-testid="agent-item"][data-agent-id="agent-bolt"]').getAttribute('data-status'), 'busy');
  // The replayed changes were applied once each: the board matches the server's.
  const { tasks } = await api('GET', '/api/tasks');
  assert.equal(await watcher.getByTestId('task-card').count(), tasks.length);
  const lines = await watcher.getByTestId('event-message').allTextContents();
  assert.equal(lines.filter((l) => l === 'Bolt created task “Made while you were away”').length, 1);
  requests.stop();
  assert.deepEqual(
    requests.paths.filter((p) => ['/api/tasks', '/api/agents', '/api/events'].includes(p)),
    [],
    'no snapshot was fetched: the log caught the board up',
  );

  // And it is live again.
  await api('POST', '/api/tasks', { title: 'Live after the resume' });
  await within(card(watcher, 'Live after the resume'), LIVE_WAIT, 'live after the resume');
  await api('PATCH', '/api/agents/agent-bolt', { status: 'online' }, tokens['agent-bolt']);
});

test('a position past the end of the server’s log (its database replaced) reloads the board, and it stays live', async () => {
  await until(() => link.upgraded(), 10_000, 'the live connection on a WebSocket');
  const requests = recordRequests(watcher);
  // Reconnects name a seq this server never handed out: every one until the check is done, so
  // that a reconnect attempt that fails on a busy machine does not leave the next to resume.
  link.rewriteConnect((auth) => (auth.since === undefined ? auth : { ...auth, since: 10 ** 12 }));
  try {
    await link.cut();
    try {
      await watcher.getByTestId('connection-banner').waitFor({ timeout: 10_000 });
      await api('POST', '/api/tasks', { title: 'Made during the long absence' });
    } finally {
      link.restore();
    }
    const banner = watcher.getByTestId('reconnect-banner');
    await within(banner, 15_000, 'the reconnect banner');
    assert.equal(await banner.getByTestId('reconnect-text').textContent(), 'Back online. Too much changed to replay, so the board was reloaded from the server.');
    assert.ok(link.events('resync_required').length >= 1);
    await card(watcher, 'Made during the long absence').waitFor();
    assert.ok(requests.paths.includes('/api/tasks') && requests.paths.includes('/api/agents'), 'the snapshot was fetched');
  } finally {
    link.rewriteConnect(null);
    requests.stop();
  }
  await api('POST', '/api/tasks', { title: 'Live after the reload' });
  await within(card(watcher, 'Live after the reload'), LIVE_WAIT, 'live after the reload');
});

/** What a socket resuming from `since` is told: 'resumed' or 'resync_required'. */
async function probeResume(target, since) {
  const socket = io(target.url, { auth: { token: target.token, since }, reconnection: false, forceNew: true, transports: ['websocket'] });
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer to since')), 20_000);
      socket.once('resumed', () => (clearTimeout(timer), resolve('resumed')));
      socket.once('resync_required', () => (clearTimeout(timer), resolve('resync_required')));
      socket.once('connect_error', (e) => (clearTimeout(timer), reject(e)));
    });
  } finally {
    socket.close();
  }
}

test('a connection down for longer than the change log keeps reloads the board from the snapshot', async () => {
  // The smallest log the server allows: 1,000 changes.
  const small = await startServer({ env: { CHANGE_LOG_MAX_ENTRIES: '1000' } });
  const context = await browser.newContext(DESKTOP);
  try {
    const away = await liveLink(context);
    const page = await signIn(context, small.url);
    await until(() => away.upgraded(), 10_000, 'the live connection on a WebSocket');
    const since = (await small.request('GET', '/api/tasks', undefined, small.token)).body.seq;
    const requests = recordRequests(page);
    await away.cut();
    await page.getByTestId('connection-banner').waitFor({ timeout: 10_000 });

    // 600 tasks: 1,200 changes, more than the log keeps.
    const titles = Array.from({ length: 600 }, (_, i) => `Imported ticket ${i + 1}`);
    for (let i = 0; i < titles.length; i += 8) {
      await Promise.all(titles.slice(i, i + 8).map(async (title) => assert.equal((await small.request('POST', '/api/tasks', { title }, small.token)).status, 201)));
    }
    // The log is trimmed once a minute: wait until it no longer reaches back to the page's seq.
    await until(async () => (await probeResume(small, since)) === 'resync_required', 120_000, 'the change log trimmed past the page');

    away.restore();
    const banner = page.getByTestId('reconnect-banner');
    await within(banner, 15_000, 'the reconnect banner');
    assert.equal(await banner.getByTestId('reconnect-text').textContent(), 'Back online. Too much changed to replay, so the board was reloaded from the server.');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="task-card"]').length === n, titles.length, { timeout: 15_000 });
    assert.ok(requests.paths.includes('/api/tasks'), 'the snapshot was fetched');
    await small.request('POST', '/api/tasks', { title: 'Live after the long absence' }, small.token);
    await within(card(page, 'Live after the long absence'), LIVE_WAIT, 'live again');
  } finally {
    await context.close();
    await small.stop();
  }
});

test('presence is the server’s: a silent agent shows offline with when it was last seen, and comes back live', async () => {
  const quick = await startServer({ env: { AGENT_OFFLINE_AFTER: '5s' } });
  const context = await browser.newContext(DESKTOP);
  try {
    let res = await quick.request('POST', '/api/agents', { id: 'agent-iris', name: 'Iris', role: 'Dev' }, quick.token);
    assert.equal(res.status, 201);
    res = await quick.request('POST', '/api/auth/tokens', { agentId: 'agent-iris' }, quick.token);
    const iris = res.body.token;
    await quick.request('GET', '/api/tasks', undefined, iris);
    const page = await signIn(context, quick.url);
    const item = page.locator('[data-testid="agent-item"][data-agent-id="agent-iris"]');
    await item.waitFor();
    await within(page.locator('[data-testid="agent-item"][data-agent-id="agent-iris"][data-status="offline"]'), 30_000, 'Iris offline by the server’s sweep');
    assert.equal(await item.getByTestId('agent-seen').textContent(), 'last seen under a minute ago');
    assert.match(await item.getByTestId('agent-seen').getAttribute('title'), /^Offline: no sign of life since /);
    await within(page.getByTestId('event-message').filter({ hasText: 'Iris went offline: no sign of life for 5 s' }), LIVE_WAIT, 'the offline line');
    // The operator's own open dashboard is a sign of life: Patch stays online.
    assert.equal(await page.locator('[data-testid="agent-item"][data-agent-id="agent-patch"]').getAttribute('data-status'), 'online');
    await shot(page, 'agents-presence-offline');

    await quick.request('GET', '/api/tasks', undefined, iris);
    await within(page.locator('[data-testid="agent-item"][data-agent-id="agent-iris"][data-status="online"]'), LIVE_WAIT, 'Iris back online');
    assert.equal(await item.getByTestId('agent-seen').count(), 0);
    await within(page.getByTestId('event-message').filter({ hasText: 'Iris is back online' }), LIVE_WAIT, 'the back-online line');
  } finally {
    await context.close();
    await quick.stop();
  }
});

test("the operator lists an agent's tokens and revokes one: that token's live session ends", async () => {
  const second = (await api('POST', '/api/auth/tokens', { agentId: 'agent-nova' })).token;
  const novaContext = await browser.newContext(DESKTOP);
  const nova = await signInWithToken(novaContext, server.url, second, USERS['agent-nova']);

  await op.locator('[data-testid="agent-item"][data-agent-id="agent-nova"] [data-testid="agent-manage"]').click();
  const dialog = op.getByTestId('agent-dialog');
  await dialog.waitFor();
  const rows = dialog.getByTestId('token-row');
  await rows.first().waitFor();
  assert.deepEqual((await rows.evaluateAll((els) => els.map((e) => e.dataset.tokenId))).sort(), [tokenId(tokens['agent-nova']), tokenId(second)].sort());
  for (const row of await rows.all()) {
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells.length, 5);
    assert.match(cells[1], /\d{4}/, 'created');
    assert.match(cells[2], /\d{4}/, 'expires');
    assert.match(cells[3], /ago$|^never$/, 'last used');
  }
  const text = await dialog.textContent();
  assert.ok(!text.includes(second) && !text.includes(tokens['agent-nova']), 'never the token itself');
  await shot(op, 'agents-tokens');

  await dialog.locator(`[data-testid="token-row"][data-token-id="${tokenId(second)}"] [data-testid="token-revoke"]`).click();
  await dialog.getByTestId('confirm-revoke').click();
  await dialog.locator(`[data-testid="token-row"][data-token-id="${tokenId(second)}"]`).waitFor({ state: 'detached' });
  assert.equal(await rows.count(), 1);
  // The session that used it is over: its socket is closed and it is back at sign-in.
  await within(nova.getByTestId('login-form'), 10_000, "the revoked token's session ends");
  await nova.getByText('Your session has ended').waitFor();
  assert.equal((await server.request('GET', '/api/tasks', undefined, second)).status, 401);
  assert.equal((await server.request('GET', '/api/tasks', undefined, tokens['agent-nova'])).status, 200, 'the other token still works');
  await novaContext.close();

  await dialog.getByTestId('tokens-revoke-all').click();
  await dialog.getByTestId('confirm-revoke-all').click();
  await dialog.getByTestId('tokens-empty').waitFor();
  assert.match(await dialog.getByTestId('agent-done').textContent(), /^1 token revoked: Nova is signed out everywhere\.$/);
  assert.equal((await server.request('GET', '/api/tasks', undefined, tokens['agent-nova'])).status, 401);
  await op.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });

  // The operator's own list marks the session this browser uses; the operator cannot be removed.
  await op.locator('[data-testid="agent-item"][data-agent-id="agent-patch"] [data-testid="agent-manage"]').click();
  await dialog.getByTestId('token-this-session').waitFor();
  assert.equal(await dialog.getByTestId('agent-remove').count(), 0);
  await op.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
});

test('removing an agent asks first; it disappears live, and its tasks are unassigned', async () => {
  const title = 'Tune the alert thresholds';
  await api('POST', '/api/tasks', { title, status: 'todo', assignedAgent: 'agent-bolt' });
  await within(card(watcher, title).getByTestId('card-assignee'), LIVE_WAIT, 'the assigned card');

  await op.locator('[data-testid="agent-item"][data-agent-id="agent-bolt"] [data-testid="agent-manage"]').click();
  const dialog = op.getByTestId('agent-dialog');
  await dialog.getByTestId('agent-remove').click();
  const confirm = dialog.getByTestId('confirm-box');
  assert.match(await confirm.textContent(), /^Remove Bolt\? Its tokens are revoked and its live connections end; its 1 task becomes unassigned\. This cannot be undone\./);
  await shot(op, 'agents-remove-confirm');
  await dialog.getByTestId('confirm-remove').click();
  await dialog.waitFor({ state: 'detached' });

  for (const page of [op, watcher]) {
    await page.locator('[data-testid="agent-item"][data-agent-id="agent-bolt"]').waitFor({ state: 'detached', timeout: LIVE_WAIT });
    await card(page, title).getByTestId('card-assignee').waitFor({ state: 'detached', timeout: LIVE_WAIT });
  }
  assert.equal((await server.request('GET', '/api/agents/agent-bolt', undefined, server.token)).status, 404);
  assert.equal((await server.request('GET', '/api/tasks', undefined, tokens['agent-bolt'])).status, 401);
});
