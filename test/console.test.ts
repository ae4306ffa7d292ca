import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { samplingDraw } from 'governor';
import { issueConsoleToken, type ConsoleRole } from 'governor/client';
import { DEFAULT_CONSOLE_REDACT, startReviewConsole, type ReviewConsole } from 'governor/console';
import { evidenceForWorkflow, listReviewRecords } from 'governor/worker';
import { correctionsAsCases } from '../examples/support/evals/reruns.js';
import { launchChromium } from './helpers/browser.js';
import { complaintEvent, eventually, startHarness, ticketEvent, type Harness } from './helpers/harness.js';

const SECRET = 'console-test-secret-0123456789abcdef0123456789';
const ARTIFACTS = new URL('../test-artifacts/', import.meta.url);
/** A ticket the offline model classifies with low confidence: the run waits for a reviewer. */
const UNSURE = { subject: 'Why?', body: 'Why did I get blocked?' };
/** A question the offline model answers how_to, confidently: applied without a person. */
const STATEMENTS = { subject: 'Statements', body: 'Where can I see my statements?' };
const STAMP = Date.now().toString(36);

const token = async (reviewerId: string, roles: ConsoleRole[]) => (await issueConsoleToken(SECRET, { reviewerId, roles, ttl: '1h' })).token;

describe('reviewer console (real Chromium, real Temporal)', () => {
  let h: Harness;
  let consoleServer: ReviewConsole;
  let chromium: { browser: Browser; close(): Promise<void> };
  const contexts: BrowserContext[] = [];

  before(async () => {
    h = await startHarness();
    // The redaction policy hides the customer's revenue from reviewers (as well as contact details, by default).
    consoleServer = await startReviewConsole({ governor: h.client, secret: SECRET, store: h.store, temporalUiUrl: 'http://127.0.0.1:8233', refreshMs: 250, redact: [...DEFAULT_CONSOLE_REDACT, 'customer.arr'] });
    chromium = await launchChromium();
    await mkdir(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await chromium?.close();
    await consoleServer?.close();
    await h?.close();
  });

  /** A browser profile signed in as one person, through the sign-in page. */
  async function signIn(reviewerId: string, roles: ConsoleRole[]): Promise<Page> {
    const context = await chromium.browser.newContext({ viewport: { width: 1500, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${consoleServer.url}/`);
    assert.match(page.url(), /\/login$/, 'an unsigned visitor is sent to sign in');
    await page.fill('textarea[name="token"]', await token(reviewerId, roles));
    await page.click('button[type="submit"]');
    await page.waitForSelector('table[aria-label="Review queue"]');
    await page.waitForSelector('.live.on');
    return page;
  }

  async function waitingRun(reviewers: string[] = ['usr_442']): Promise<string> {
    const { workflowId } = await h.client.startTriage(ticketEvent(UNSURE), { reviewers });
    await eventually('the run waits for review', async () => ((await h.client.triageState(workflowId)).phase === 'awaiting_review' ? true : undefined));
    return workflowId;
  }

  const row = (page: Page, id: string) => page.locator(`tr[data-run="${id}"]`);
  const decide = (id: string, bearer: string, body: unknown) =>
    fetch(`${consoleServer.url}/api/runs/${encodeURIComponent(id)}/decisions`, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('refuses a bad token at sign-in, and the API without one', async () => {
    const context = await chromium.browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${consoleServer.url}/login`);
    await page.fill('textarea[name="token"]', 'not-a-token');
    const [res] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/login') && r.request().method() === 'POST'), page.click('button[type="submit"]')]);
    assert.equal(res.status(), 401);
    assert.match(await page.locator('.error').innerText(), /not valid for this console/);
    const forged = await issueConsoleToken('another-secret-0123456789abcdef0123456789', { reviewerId: 'usr_442', roles: ['admin'] });
    const api = await fetch(`${consoleServer.url}/api/queue`, { headers: { authorization: `Bearer ${forged.token}` } });
    assert.equal(api.status, 401, 'a token signed with another secret is refused');
  });

  it('a waiting run appears live; approving it from the page completes the run; the queue and detail are captured', async () => {
    const page = await signIn('usr_442', ['reviewer', 'approver']);
    const id = await waitingRun();
    // No reload: the live stream tells the page the queue changed.
    await row(page, id).waitFor({ timeout: 15_000 });
    const cells = await row(page, id).locator('td').allInnerTexts();
    assert.equal(cells[0], `${id}\nsupportTicketTriage`);
    assert.match(cells[1]!, /^review$/);
    assert.match(cells[2]!, /low_confidence/);
    assert.match(cells[3]!, /category=other/);
    assert.match(cells[4]!, /support_ticket_classifier@/);
    assert.match(cells[6]!, /^2[34]\.\dh$/, 'time left before the 24 h deadline');
    await page.screenshot({ path: new URL('console-queue.png', ARTIFACTS).pathname, fullPage: true });
    await row(page, id).click();
    const detail = page.locator('aside.detail');
    await detail.locator('h2', { hasText: id }).waitFor();
    const text = await detail.innerText();
    assert.match(text, /Model output/);
    assert.match(text, /"confidence"/);
    assert.match(text, /Why did I get blocked\?/, 'the trigger is shown');
    assert.match(text, /"arr": "\[redacted\]"/, 'redacted where the policy says');
    assert.doesNotMatch(text, /2400/);
    assert.match(text, /Who may decide: usr_442/);
    assert.equal(await detail.locator('a', { hasText: 'open in Temporal UI' }).getAttribute('href'), `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(id)}`);
    await page.screenshot({ path: new URL('console-detail.png', ARTIFACTS).pathname, fullPage: true });
    await detail.locator('button[data-choice="approve"]').click();
    await detail.locator('.answer[data-status="accepted"]').waitFor();
    const result = await h.client.triageResult(id);
    assert.equal(result.outcome, 'approved');
    assert.equal(result.reviewerId, 'usr_442');
    await row(page, id).waitFor({ state: 'detached', timeout: 15_000 });
  });

  it('a correction from the page is applied, stored and exported as an eval case', async () => {
    const page = await signIn('usr_442', ['reviewer']);
    const id = await waitingRun();
    await row(page, id).waitFor({ timeout: 15_000 });
    await row(page, id).click();
    const detail = page.locator('aside.detail');
    await detail.locator('h2', { hasText: id }).waitFor();
    await detail.locator('input[name="note"]').fill('a blocked account is an account matter');
    await detail.locator('button[data-choice="correct"]').click();
    await detail.locator('select[name="category"]').selectOption('account');
    await detail.locator('select[name="urgency"]').selectOption('high');
    await detail.locator('button', { hasText: 'Save correction' }).click();
    await detail.locator('.answer[data-status="accepted"]').waitFor();
    const result = await h.client.triageResult(id);
    assert.deepEqual([result.outcome, result.category, result.urgency, result.reviewerId], ['corrected', 'account', 'high', 'usr_442']);
    const cases = await eventually('the correction as an eval case', async () => {
      const found = (await correctionsAsCases({ describe: 'the store', list: (q) => listReviewRecords(h.store, q), close: async () => undefined })).filter((c) => c.source?.workflowId === id);
      return found.length > 0 ? found : undefined;
    });
    assert.deepEqual(cases[0]!.expected, { category: 'account', urgency: 'high' });
    assert.equal(cases[0]!.source?.reviewer, 'usr_442');
    assert.equal(cases[0]!.source?.reason, 'a blocked account is an account matter');
  });

  it('a reviewer the run does not list is refused in the page and through the API; roles are checked too', async () => {
    const id = await waitingRun(['usr_442']);
    const page = await signIn('usr_777', ['reviewer']);
    await row(page, id).waitFor({ timeout: 15_000 });
    assert.match((await row(page, id).locator('td').nth(1).innerText()), /not yours/);
    await row(page, id).click();
    const detail = page.locator('aside.detail');
    await detail.locator('button[data-choice="approve"]').click();
    await detail.locator('.answer[data-status="not_authorised"]').waitFor();
    assert.match(await detail.locator('.answer').innerText(), /usr_777 is not a reviewer for this run/);
    const api = await decide(id, await token('usr_777', ['reviewer']), { verb: 'review', key: 'review', choice: 'approve' });
    assert.equal(api.status, 403);
    assert.equal(((await api.json()) as { status: string }).status, 'not_authorised');
    // An approver-only person may not review, even one the run lists.
    const role = await decide(id, await token('usr_442', ['approver']), { verb: 'review', key: 'review', choice: 'approve' });
    assert.equal(role.status, 403);
    assert.match(((await role.json()) as { message: string }).message, /needs the reviewer role/);
    assert.equal((await h.client.triageState(id)).phase, 'awaiting_review', 'nothing was decided');
    await h.client.review(id, { action: 'reject', reviewerId: 'usr_442' });
  });

  it('two reviewers deciding the same run at once: one is accepted, the other is told who decided', async () => {
    const id = await waitingRun(['usr_442', 'usr_443']);
    const [a, b] = await Promise.all([
      decide(id, await token('usr_442', ['reviewer']), { verb: 'review', key: 'review', choice: 'approve' }),
      decide(id, await token('usr_443', ['reviewer']), { verb: 'review', key: 'review', choice: 'reject' }),
    ]);
    const answers = [(await a.json()) as { status: string; message?: string }, (await b.json()) as { status: string; message?: string }];
    const statuses = answers.map((x) => x.status).sort();
    assert.deepEqual(statuses, ['accepted', 'already_decided']);
    const winner = answers[0]!.status === 'accepted' ? 'usr_442' : 'usr_443';
    const loser = answers.find((x) => x.status === 'already_decided')!;
    assert.match(loser.message!, new RegExp(`by ${winner}`));
    assert.equal([a.status, b.status].sort().join(','), '200,409');
  });

  it('a held tool action is approved from the page; the evidence names the approver', async () => {
    const event = complaintEvent({ body: 'Nobody answered my email for a week.' });
    h.double.enqueue({
      kind: 'json',
      value: {
        escalate: false,
        severity: 'medium',
        reason: 'Slow response; apologise.',
        actions: [{ tool: 'send_customer_email', args: JSON.stringify({ customerId: event.customer.id, subject: 'Sorry', body: 'We are sorry for the delay.' }), why: 'apologise' }],
        reply: 'Apology drafted.',
        confidence: 0.8,
      },
    });
    const { workflowId } = await h.client.startComplaint(event);
    const page = await signIn('usr_442', ['approver']);
    await row(page, workflowId).waitFor({ timeout: 15_000 });
    assert.match(await row(page, workflowId).locator('td').nth(1).innerText(), /^approval$/);
    await row(page, workflowId).click();
    const detail = page.locator('aside.detail');
    await detail.locator('h3', { hasText: 'Held action: send_customer_email' }).waitFor();
    await detail.locator('button[data-choice="approve"]').click();
    await detail.locator('.answer[data-status="accepted"]').waitFor();
    const result = await h.client.complaintResult(workflowId);
    assert.equal(result.outcome, 'completed');
    const sent = (await evidenceForWorkflow(h.store, workflowId)).find((r) => r.tool === 'send_customer_email')!;
    assert.deepEqual([sent.status, sent.approver], ['success', 'usr_442']);
  });

  it('the keyboard path: move, open, approve — without the mouse', async () => {
    const page = await signIn('usr_442', ['reviewer']);
    const id = await waitingRun();
    await row(page, id).waitFor({ timeout: 15_000 });
    const rows = await page.locator('tr[data-run]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run')));
    const at = rows.indexOf(id);
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    for (let i = 0; i < at; i++) await page.keyboard.press('j');
    assert.equal(await page.locator('tr.selected').getAttribute('data-run'), id);
    await page.keyboard.press('Enter');
    await page.locator('aside.detail h2', { hasText: id }).waitFor();
    await page.keyboard.press('a');
    await page.locator('.answer[data-status="accepted"]').waitFor();
    assert.equal((await h.client.triageResult(id)).outcome, 'approved');
  });

  it('reminders go out before the deadline and show in the queue; a decision after the deadline is told so', async () => {
    const page = await signIn('usr_442', ['reviewer']);
    const { workflowId: id } = await h.client.startTriage(ticketEvent(UNSURE), { reviewers: ['usr_442'], reviewDeadline: '7s', reviewReminders: ['4s', '1h'] });
    await row(page, id).waitFor({ timeout: 15_000 });
    await row(page, id).click();
    // The reminder 4 s before the deadline: emailed to the review team through the outbox, with evidence.
    await row(page, id).locator('text=reminded 1×').waitFor({ timeout: 15_000 });
    const mail = await h.store.db.query<{ recipient: string; subject: string }>(`select recipient, subject from outbox where kind = 'reminder' and body like $1`, [`%${id}%`]);
    assert.equal(mail.rows.length, 1, 'one reminder (the 1h one was already past at the start)');
    assert.match(mail.rows[0]!.subject, /^\[review due /);
    const records = await evidenceForWorkflow(h.store, id);
    assert.deepEqual(records.filter((r) => r.tool === 'remind_reviewers').map((r) => r.status), ['success']);
    // The open detail follows live too.
    await page.locator('aside.detail p', { hasText: 'Reminders sent: ' }).waitFor();
    // The deadline passes: the run escalates the ticket; the page's decision is answered "deadline passed".
    const result = await h.client.triageResult(id);
    assert.equal(result.outcome, 'review_expired_escalated');
    await page.locator('aside.detail button[data-choice="approve"]').click();
    await page.locator('.answer[data-status="deadline_passed"]').waitFor();
  });

  it('a sampled auto-applied run is graded in the page; an incorrect grade becomes an eval case; a second grader is told who', async () => {
    // An event id whose run falls in the default 2 % grading sample (the draw is a pure function of the run's id).
    let eventId = '';
    for (let n = 0; !eventId; n++) if (samplingDraw(`triage/evt_grade_${STAMP}_${n}`) < 0.02) eventId = `evt_grade_${STAMP}_${n}`;
    const { workflowId: id } = await h.client.startTriage(ticketEvent({ ...STATEMENTS, eventId }));
    const result = await h.client.triageResult(id);
    assert.equal(result.outcome, 'auto_applied', 'grading never holds the run');
    assert.equal((await h.client.triageState(id)).sampling?.graded, true);
    const page = await signIn('usr_442', ['reviewer']);
    await page.locator('button[role="tab"]', { hasText: 'To grade' }).click();
    const graded = page.locator(`tr[data-grade="${id}"]`);
    await graded.waitFor({ timeout: 15_000 });
    await graded.click();
    const panel = page.locator('aside[aria-label="Grade a run"]');
    await panel.locator('input[name="note"]').fill('statements are billing');
    await panel.locator('button[data-verdict="incorrect"]').click();
    await panel.locator('select[name="category"]').selectOption('billing');
    await panel.locator('button', { hasText: 'Save grade' }).click();
    await panel.locator('.answer[data-status="accepted"]').waitFor();
    await graded.waitFor({ state: 'detached' });
    const records = await listReviewRecords(h.store, { kind: 'grade' });
    const record = records.find((r) => r.workflowId === id)!;
    assert.deepEqual([record.verdict, record.reviewer, record.reason], ['incorrect', 'usr_442', 'statements are billing']);
    assert.deepEqual(record.corrected, { category: 'billing', urgency: 'low' });
    const cases = await correctionsAsCases({ describe: 'the store', list: (q) => listReviewRecords(h.store, q), close: async () => undefined });
    const fromGrade = cases.find((c) => c.source?.workflowId === id)!;
    assert.deepEqual(fromGrade.expected, { category: 'billing', urgency: 'low' });
    const again = await fetch(`${consoleServer.url}/api/grading/${encodeURIComponent(id)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('usr_443', ['reviewer'])}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict: 'correct' }),
    });
    assert.equal(again.status, 409);
    assert.match(((await again.json()) as { message: string }).message, /already graded by usr_442/);
  });

  it('the page refuses a decision without its CSRF token or from another origin; every decision is audited', async () => {
    const page = await signIn('usr_442', ['reviewer']);
    const id = await waitingRun();
    const status = await page.evaluate(async (runId) => {
      const res = await fetch(`/api/runs/${encodeURIComponent(runId)}/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ verb: 'review', key: 'review', choice: 'approve' }) });
      return res.status;
    }, id);
    assert.equal(status, 403, 'the session cookie alone is not enough');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'governor_console')!;
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    const foreign = await fetch(`${consoleServer.url}/logout`, { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded', cookie: `governor_console=${cookie.value}` } });
    assert.equal(foreign.status, 403, 'a form post from another origin is refused');
    assert.equal((await h.client.triageState(id)).phase, 'awaiting_review');
    await h.client.review(id, { action: 'reject', reviewerId: 'usr_442' });

    const audit = await fetch(`${consoleServer.url}/api/audit`, { headers: { authorization: `Bearer ${await token('usr_admin', ['admin'])}` } });
    assert.equal(audit.status, 200);
    const rows = ((await audit.json()) as { items: Array<{ reviewer: string; answer: string; choice: string; sent: unknown; shown: unknown; at: string; workflow_id: string }> }).items;
    const accepted = rows.filter((r) => r.answer === 'accepted');
    assert.ok(accepted.length >= 4, `accepted decisions audited (${accepted.length})`);
    const correction = rows.find((r) => r.choice === 'correct' && r.answer === 'accepted')!;
    assert.equal(correction.reviewer, 'usr_442');
    assert.deepEqual((correction.sent as { corrected: unknown }).corrected, { category: 'account', urgency: 'high' });
    assert.ok(correction.shown && correction.at, 'what was shown, and when');
    assert.ok(rows.some((r) => r.reviewer === 'usr_777' && r.answer === 'not_authorised'), 'refusals are audited too');
    const notAdmin = await fetch(`${consoleServer.url}/api/audit`, { headers: { authorization: `Bearer ${await token('usr_442', ['reviewer'])}` } });
    assert.equal(notAdmin.status, 403);
  });
});
