import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { WorkflowNotFoundError } from '@temporalio/client';
import redaction from '@pinojs/redact';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { secureHeaders } from 'hono/secure-headers';
import { streamSSE } from 'hono/streaming';
import { Counter, Gauge, Registry } from 'prom-client';
import { z } from 'zod';
import { evidenceForWorkflow } from '../activities/evidence.js';
import { gradeRun, gradingItem, listToGrade, ReviewInputInvalid } from '../activities/reviews.js';
import type { Store } from '../activities/store.js';
import { formatIssues, issuesFrom } from '../contracts/issues.js';
import { ConsoleAuthError, consoleSecret, signConsoleToken, verifyConsoleToken, type ConsoleIdentity, type ConsoleRole } from '../client/console-tokens.js';
import type { GovernorClient, UpdateResult, WaitingEntry } from '../client/governor-client.js';
import type { WaitingDecision, WaitingKind } from '../workflows/descriptor.js';

export interface ReviewConsoleOptions {
  /** The client the console reads runs and sends decisions through: the same updates the CLI sends. */
  readonly governor: GovernorClient;
  /** Signs sign-in tokens and sessions (`GOVERNOR_CONSOLE_SECRET`, at least 32 characters). */
  readonly secret: string;
  /** The store: the audit log of decisions, the evidence shown in a run's detail. */
  readonly store: Store;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (a free port). */
  readonly port?: number;
  /** The Temporal Web UI's base URL (`http://127.0.0.1:8233`): each run links to its page there. */
  readonly temporalUiUrl?: string;
  /** The namespace runs live in, for the Web UI link (default `default`). */
  readonly namespace?: string;
  /**
   * Field paths of a trigger hidden from reviewers (the redaction syntax of `@pinojs/redact`: `customer.email`,
   * `*.iban`). Default `DEFAULT_CONSOLE_REDACT`.
   */
  readonly redact?: readonly string[];
  /** How often the queue is read for live updates while a page is open (default 1000 ms). */
  readonly refreshMs?: number;
  /** Live-update streams served at once; more are refused (default 100). */
  readonly maxStreams?: number;
  /** Sessions last this long, whatever the token's own expiry (default 12 h). */
  readonly sessionMs?: number;
}

/** What reviewers never see of a trigger by default: contact details. Ticket text stays visible: it is what they judge. */
export const DEFAULT_CONSOLE_REDACT: readonly string[] = ['customer.email', 'customer.phone', '*.email', '*.phone', '*.iban', '*.card_number'];

export interface ReviewConsole {
  readonly url: string;
  /** The console's own metrics (decisions, queue size and age): register with the worker's metrics server. */
  readonly registry: Registry;
  close(): Promise<void>;
}

/** The answer a decision gets, as the console reports it: the run's own answers, plus the console's refusals. */
export type ConsoleAnswer = UpdateResult<Record<string, unknown>> | { readonly status: 'deadline_passed' | 'not_signed_in'; readonly message: string };

/** Which role decides which kind of decision; admin decides every kind. */
const ROLE_FOR: Record<WaitingKind, ConsoleRole> = { review: 'reviewer', task: 'reviewer', approval: 'approver' };

const COOKIE = 'governor_console';
const ASSETS: Readonly<Record<string, string>> = { 'app.js': 'text/javascript; charset=utf-8', 'console.css': 'text/css; charset=utf-8' };

const DecisionRequest = z.strictObject({
  verb: z.string().min(1),
  key: z.string().min(1),
  choice: z.string().min(1),
  note: z.string().max(1000).optional(),
  fields: z.record(z.string(), z.string().max(200)).default({}),
  /** The deadline the page showed: lets a refusal after it say "deadline passed" rather than "not waiting". */
  deadline: z.string().optional(),
});

const GradeRequest = z.strictObject({
  verdict: z.enum(['correct', 'incorrect']),
  note: z.string().max(1000).optional(),
  fields: z.record(z.string(), z.string().max(200)).default({}),
});

const HTTP_FOR: Record<ConsoleAnswer['status'] | 'already_graded', 200 | 400 | 401 | 403 | 404 | 409 | 410> = {
  already_graded: 409,
  accepted: 200,
  invalid: 400,
  not_signed_in: 401,
  not_authorised: 403,
  not_found: 404,
  already_decided: 409,
  not_awaiting_review: 409,
  deadline_passed: 410,
};

/**
 * The reviewer console: a web page listing everything waiting for a person across the described workflows (reviews,
 * held actions, escalated tasks), each run's detail, and one-click decisions sent through the workflows' own updates.
 * People sign in with a token from `governor console token` (or call the JSON API with it as a bearer token); a
 * session is an HttpOnly, SameSite=Strict cookie, and every state-changing request from a page must carry the
 * session's CSRF token and come from the console's own origin. Every decision is written to the audit log with who,
 * when, what was shown and what was sent, and the answer.
 */
export async function startReviewConsole(options: ReviewConsoleOptions): Promise<ReviewConsole> {
  // Fails fast on a short or missing secret, before anything listens.
  consoleSecret(options.secret);
  await ensureConsoleSchema(options.store);
  const registry = new Registry();
  const metrics = consoleMetrics(registry);
  const redactTrigger = redaction({ paths: [...(options.redact ?? DEFAULT_CONSOLE_REDACT)], censor: '[redacted]', serialize: false, strict: false });
  const sessionMs = options.sessionMs ?? 12 * 3600_000;
  const queue = new QueueWatch(options.governor, options.refreshMs ?? 1000, metrics);
  const maxStreams = options.maxStreams ?? 100;
  let streams = 0;
  const assetDir = new URL('./bundle/', import.meta.url);

  const key = consoleSecret(options.secret);
  const csrfOf = (sid: string) => createHmac('sha256', key).update(`csrf:${sid}`).digest('base64url');

  /** The person a request speaks for: the bearer token (API), else the session cookie (page). */
  async function identify(c: Context): Promise<{ who: ConsoleIdentity; sid: string | null } | null> {
    const auth = c.req.header('authorization');
    try {
      if (auth?.startsWith('Bearer ')) return { who: await verifyConsoleToken(options.secret, auth.slice(7)), sid: null };
      const cookie = getCookie(c, COOKIE);
      if (!cookie) return null;
      const session = await verifyConsoleToken(options.secret, cookie);
      return { who: session, sid: createHmac('sha256', key).update(cookie).digest('base64url').slice(0, 22) };
    } catch (err) {
      if (err instanceof ConsoleAuthError) return null;
      throw err;
    }
  }

  /** A page's state-changing request carries its session's CSRF token; an API call with a bearer token has no cookie to ride on. */
  function csrfOk(c: Context, sid: string | null): boolean {
    if (sid === null) return true;
    const sent = c.req.header('x-csrf-token') ?? '';
    const want = csrfOf(sid);
    return sent.length === want.length && timingSafeEqual(Buffer.from(sent), Buffer.from(want));
  }

  const app = new Hono<{ Variables: { who: ConsoleIdentity; sid: string | null } }>();
  app.use('*', secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'self'"], styleSrc: ["'self'"], scriptSrc: ["'self'"], imgSrc: ["'self'", 'data:'], frameAncestors: ["'none'"] } }));
  // Unsafe methods from a browser must come from this origin (the Origin header), whatever the cookie says.
  app.use('*', csrf());

  app.get('/login', (c) => c.html(loginPage(null)));
  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token : '';
    let who: ConsoleIdentity;
    try {
      who = await verifyConsoleToken(options.secret, token);
    } catch (err) {
      if (err instanceof ConsoleAuthError) return c.html(loginPage(err.message), 401);
      throw err;
    }
    // The session is the token's identity for at most `sessionMs` (never past the token's own expiry), under a fresh
    // random id so each sign-in has its own CSRF token.
    const expiresAt = Math.min(who.expiresAt, Math.floor((Date.now() + sessionMs) / 1000));
    const session = await signConsoleToken(options.secret, { ...who, expiresAt }, randomBytes(16).toString('base64url'));
    setCookie(c, COOKIE, session, { httpOnly: true, sameSite: 'Strict', path: '/', secure: new URL(c.req.url).protocol === 'https:', expires: new Date(expiresAt * 1000) });
    return c.redirect('/', 303);
  });
  app.post('/logout', (c) => {
    deleteCookie(c, COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });
  app.get('/assets/:file', async (c) => {
    const file = c.req.param('file');
    const type = ASSETS[file];
    if (!type) return c.notFound();
    const body = await readFile(new URL(file, assetDir)).catch(() => null);
    if (body === null) return c.text('the console is not built: run npm run build:console', 500);
    return c.body(body, 200, { 'content-type': type, 'cache-control': 'no-cache' });
  });

  // Everything below needs a signed-in person.
  app.use('*', async (c, next) => {
    const found = await identify(c);
    if (!found) {
      if (c.req.path.startsWith('/api/')) return c.json({ status: 'not_signed_in', message: 'sign in first: a token from `governor console token`' }, 401);
      return c.redirect('/login', 303);
    }
    if (c.req.method !== 'GET' && !csrfOk(c, found.sid)) return c.json({ status: 'invalid', message: 'missing or wrong CSRF token: reload the page' }, 403);
    c.set('who', found.who);
    c.set('sid', found.sid);
    await next();
  });

  app.get('/', (c) => c.html(appPage(csrfOf(c.get('sid') ?? ''))));
  app.get('/api/me', (c) => {
    const who = c.get('who');
    return c.json({ reviewerId: who.reviewerId, roles: who.roles, expiresAt: new Date(who.expiresAt * 1000).toISOString(), csrf: csrfOf(c.get('sid') ?? '') });
  });

  app.get('/api/queue', async (c) => {
    const entries = await queue.read();
    const who = c.get('who');
    const now = Date.now();
    return c.json({ version: queue.version, now: new Date(now).toISOString(), items: entries.map((e) => queueItem(e, who, now, options)) });
  });

  app.get('/api/events', (c) => {
    if (streams >= maxStreams) return c.json({ status: 'busy', message: `at most ${maxStreams} live pages at once` }, 503);
    streams += 1;
    return streamSSE(c, async (stream) => {
      const unsubscribe = queue.subscribe((version) => void stream.writeSSE({ event: 'queue', data: String(version) }));
      stream.onAbort(() => unsubscribe());
      await stream.writeSSE({ event: 'queue', data: String(queue.version) });
      // Kept open until the page goes; a comment line every 15 s keeps proxies from closing an idle stream.
      while (!stream.aborted && !stream.closed) {
        await stream.sleep(15_000);
        if (!stream.aborted) await stream.write(': keep-alive\n\n');
      }
      unsubscribe();
      streams -= 1;
    }, async () => {
      streams -= 1;
    });
  });

  app.get('/api/runs/:id', async (c) => {
    const id = c.req.param('id');
    const who = c.get('who');
    const type = await runType(options.governor, id);
    if (type === null) return c.json({ status: 'not_found', message: `no run ${id}` }, 404);
    const view = reviewOf(options.governor, type);
    const state = await options.governor.state(id).catch(() => undefined);
    const input = view?.trigger ? await options.governor.inputOf(id).catch(() => undefined) : undefined;
    const now = Date.now();
    const waiting = view && state !== undefined ? view.waiting(state as never) : [];
    return c.json({
      workflowId: id,
      workflowType: type,
      link: runLink(options, id),
      trigger: input !== undefined && view?.trigger ? redactTrigger(view.trigger(input as never)) : null,
      detail: view && state !== undefined ? view.detail(state as never) : null,
      waiting: waiting.map((d) => decisionView(d, who, now)),
      evidence: (await evidenceForWorkflow(options.store, id)).map((r) => ({ id: r.evidenceId, step: r.stepId, tool: r.tool, status: r.status, at: r.startedAt, actor: r.actor, approver: r.approver, detail: r.detail })),
    });
  });

  app.post('/api/runs/:id/decisions', async (c) => {
    const id = c.req.param('id');
    const who = c.get('who');
    const parsed = DecisionRequest.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return answer(c, { status: 'invalid', message: formatIssues(issuesFrom(parsed.error)) });
    const req = parsed.data;
    const result = await decideFor(options, who, id, req);
    await audit(options.store, { who, workflowId: id, workflowType: result.workflowType, req, shown: result.shown, payload: result.payload, answer: result.answer });
    metrics.decisions.inc({ workflowType: result.workflowType ?? 'unknown', verb: req.verb, choice: req.choice, answer: result.answer.status });
    if (result.answer.status === 'accepted') queue.poke();
    return answer(c, result.answer);
  });

  // Grading: the sampled auto-applied runs, graded after the fact (the run is long finished; nothing waits on this).
  app.get('/api/grading', async (c) => {
    const items = await listToGrade(options.store, { limit: 200 });
    return c.json({
      items: items.map((i) => {
        const grading = reviewOf(options.governor, i.workflowType)?.grading;
        return { ...i, link: runLink(options, i.workflowId), fields: grading ? grading.fields(i.output as never) : [] };
      }),
    });
  });

  app.post('/api/grading/:id', async (c) => {
    const id = c.req.param('id');
    const who = c.get('who');
    const parsed = GradeRequest.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return answer(c, { status: 'invalid', message: formatIssues(issuesFrom(parsed.error)) });
    const req = parsed.data;
    const shown = await gradingItem(options.store, id);
    const workflowType = shown?.workflowType ?? null;
    const grading = reviewOf(options.governor, workflowType)?.grading;
    let result: ConsoleAnswer | { status: 'already_graded'; message: string };
    let corrected: unknown;
    if (!who.roles.includes('reviewer') && !who.roles.includes('admin')) {
      result = { status: 'not_authorised', message: `grading needs the reviewer role; ${who.reviewerId} has ${who.roles.join(', ')}` };
    } else {
      corrected = req.verdict === 'incorrect' && grading && Object.keys(req.fields).length > 0 ? grading.corrected(req.fields) : undefined;
      const graded = await gradeRun(options.store, { workflowId: id, reviewer: who.reviewerId, verdict: req.verdict, ...(corrected !== undefined ? { corrected } : {}), ...(req.note ? { reason: req.note } : {}) }).catch((err: Error) =>
        err instanceof ReviewInputInvalid ? ({ status: 'invalid', message: err.message } as const) : Promise.reject(err),
      );
      result =
        graded.status === 'accepted'
          ? { status: 'accepted' }
          : graded.status === 'already_graded'
            ? { status: 'already_graded', message: `already graded by ${graded.by} at ${graded.at}` }
            : graded.status === 'not_found'
              ? { status: 'not_found', message: `${id} is not in the grading queue` }
              : graded;
    }
    await audit(options.store, {
      who,
      workflowId: id,
      workflowType,
      req: { verb: 'grade', key: 'grade', choice: req.verdict, fields: req.fields, ...(req.note ? { note: req.note } : {}) },
      shown: shown ? { output: shown.output } : null,
      payload: corrected === undefined ? { verdict: req.verdict } : { verdict: req.verdict, corrected },
      answer: result as ConsoleAnswer,
    });
    return c.json(result, HTTP_FOR[result.status]);
  });

  app.get('/api/audit', async (c) => {
    const who = c.get('who');
    if (!who.roles.includes('admin')) return c.json({ status: 'not_authorised', message: 'the audit log is for admins' }, 403);
    const limit = Math.min(Number(c.req.query('limit') ?? 100) || 100, 1000);
    const rows = await options.store.db.query('select * from console_audit order by id desc limit $1', [limit]);
    return c.json({ items: rows.rows });
  });

  const server: ServerType = serve({ fetch: app.fetch, hostname: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  await new Promise<void>((resolve, reject) => {
    if (server.listening) return resolve();
    server.once('listening', resolve).once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    registry,
    async close() {
      queue.stop();
      // Open live-update streams would hold the server open: end them with it.
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answer(c: Context, result: ConsoleAnswer) {
  return c.json(result, HTTP_FOR[result.status]);
}

function runLink(options: ReviewConsoleOptions, workflowId: string): string | null {
  if (!options.temporalUiUrl) return null;
  return `${options.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(options.namespace ?? 'default')}/workflows/${encodeURIComponent(workflowId)}`;
}

/** A run's workflow type, or null when there is no such run: one describe call. */
async function runType(g: GovernorClient, workflowId: string): Promise<string | null> {
  try {
    return await g.typeOf(workflowId);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** The review view of a workflow type, from the client's descriptors. */
function reviewOf(g: GovernorClient, workflowType: string | null) {
  return g.workflows.find((w) => w.name === workflowType)?.review;
}

function allowedBy(who: ConsoleIdentity, kind: WaitingKind): boolean {
  return who.roles.includes('admin') || who.roles.includes(ROLE_FOR[kind]);
}

/** A waiting decision as the page sees it: its choices' ids, labels and fields (payload builders stay here). */
function decisionView(d: WaitingDecision, who: ConsoleIdentity, now: number) {
  return {
    verb: d.verb,
    key: d.key,
    kind: d.kind,
    title: d.title,
    reason: d.reason,
    approvers: d.approvers,
    deadline: d.deadline,
    timeLeftS: Math.round((Date.parse(d.deadline) - now) / 1000),
    atDeadline: d.atDeadline,
    reminded: d.reminded ?? [],
    /** Whether this person may decide it: their role, and the run's list of who may. */
    mine: allowedBy(who, d.kind) && d.approvers.includes(who.reviewerId),
    choices: d.choices.map((ch) => ({ id: ch.id, label: ch.label, fields: ch.fields ?? [] })),
  };
}

function queueItem(e: WaitingEntry, who: ConsoleIdentity, now: number, options: ReviewConsoleOptions) {
  return {
    workflowId: e.workflowId,
    workflowType: e.workflowType,
    phase: e.phase,
    startedAt: e.startedAt,
    ageS: Math.round((now - Date.parse(e.startedAt)) / 1000),
    // The run's own labels from its state; the search attributes only for a workflow without a review view.
    labels: e.detail?.labels ?? Object.fromEntries(Object.entries(e.attributes).map(([k, v]) => [k, v === null ? null : String(v)])),
    promptVersion: e.detail?.promptVersion ?? null,
    confidence: e.detail?.confidence ?? null,
    link: runLink(options, e.workflowId),
    decision: e.decision ? decisionView(e.decision, who, now) : null,
  };
}

/**
 * One decision from the console: the role check, then the run's own answer through the descriptor's update. The
 * payload is built here from the choice (the reviewer id is the signed-in person's, never the page's).
 */
async function decideFor(
  options: ReviewConsoleOptions,
  who: ConsoleIdentity,
  workflowId: string,
  req: z.infer<typeof DecisionRequest>,
): Promise<{ answer: ConsoleAnswer; workflowType: string | null; shown: unknown; payload: unknown }> {
  const g = options.governor;
  const workflowType = await runType(g, workflowId);
  if (workflowType === null) return { answer: { status: 'not_found', message: `no run ${workflowId}` }, workflowType: null, shown: null, payload: null };
  const view = reviewOf(g, workflowType);
  if (!view) return { answer: { status: 'invalid', message: `${workflowType} runs are not decided from the console` }, workflowType, shown: null, payload: null };
  const state = await g.state(workflowId);
  const detail = view.detail(state as never);
  const waiting = view.waiting(state as never).find((d) => d.verb === req.verb && d.key === req.key);
  if (!waiting) {
    // Not waiting any more: say who decided it, or that its deadline passed, rather than a bare refusal.
    if (detail.decided) return { answer: { status: 'already_decided', message: `already decided (${detail.decided.action}) by ${detail.decided.by}` }, workflowType, shown: detail.output, payload: null };
    if (req.deadline && Date.parse(req.deadline) <= Date.now()) return { answer: { status: 'deadline_passed', message: `the deadline (${req.deadline}) passed before a decision` }, workflowType, shown: detail.output, payload: null };
    return { answer: { status: 'not_awaiting_review', message: `nothing on ${workflowId} waits for ${req.verb} ${req.key}` }, workflowType, shown: detail.output, payload: null };
  }
  if (!allowedBy(who, waiting.kind)) {
    return { answer: { status: 'not_authorised', message: `deciding ${waiting.kind === 'approval' ? 'a held action' : `a ${waiting.kind}`} needs the ${ROLE_FOR[waiting.kind]} role; ${who.reviewerId} has ${who.roles.join(', ')}` }, workflowType, shown: detail.output, payload: null };
  }
  const choice = waiting.choices.find((ch) => ch.id === req.choice);
  if (!choice) return { answer: { status: 'invalid', message: `choice must be one of ${waiting.choices.map((ch) => ch.id).join(', ')}` }, workflowType, shown: detail.output, payload: null };
  for (const f of choice.fields ?? []) {
    const v = req.fields[f.name];
    if (v === undefined || !f.options.includes(v)) return { answer: { status: 'invalid', message: `fields.${f.name}: must be one of ${f.options.join(', ')}` }, workflowType, shown: detail.output, payload: null };
  }
  const payload = choice.payload({ reviewerId: who.reviewerId, ...(req.note ? { note: req.note } : {}), fields: req.fields });
  // The run decides: its gate refuses anyone it does not list, a second decision, a closed wait.
  const result = await g.decide(workflowId, req.verb, payload);
  return { answer: result, workflowType, shown: { title: waiting.title, output: detail.output }, payload };
}

/** The audit log: one row per decision sent from the console, accepted or refused. */
export async function ensureConsoleSchema(store: Store): Promise<void> {
  await store.db.exec(`
    create table if not exists console_audit (
      id bigserial primary key,
      at timestamptz not null default now(),
      reviewer text not null,
      roles text not null,
      workflow_id text not null,
      workflow_type text,
      verb text not null,
      decision_key text not null,
      choice text not null,
      shown jsonb,
      sent jsonb,
      answer text not null,
      message text
    );
    create index if not exists console_audit_workflow on console_audit (workflow_id);
  `);
}

async function audit(
  store: Store,
  a: { who: ConsoleIdentity; workflowId: string; workflowType: string | null; req: z.infer<typeof DecisionRequest>; shown: unknown; payload: unknown; answer: ConsoleAnswer },
): Promise<void> {
  await store.db.query(
    'insert into console_audit (reviewer, roles, workflow_id, workflow_type, verb, decision_key, choice, shown, sent, answer, message) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
    [
      a.who.reviewerId,
      a.who.roles.join(','),
      a.workflowId,
      a.workflowType,
      a.req.verb,
      a.req.key,
      a.req.choice,
      a.shown === null || a.shown === undefined ? null : JSON.stringify(a.shown),
      a.payload === null || a.payload === undefined ? null : JSON.stringify(a.payload),
      a.answer.status,
      'message' in a.answer ? a.answer.message : null,
    ],
  );
}

function consoleMetrics(registry: Registry) {
  return {
    decisions: new Counter({
      name: 'governor_console_decisions_total',
      help: 'Decisions sent from the reviewer console, by answer',
      labelNames: ['workflowType', 'verb', 'choice', 'answer'],
      registers: [registry],
    }),
    waiting: new Gauge({ name: 'governor_review_queue_items', help: 'Decisions waiting for a person', labelNames: ['workflowType', 'kind'], registers: [registry] }),
    oldest: new Gauge({ name: 'governor_review_queue_oldest_seconds', help: 'Age of the oldest run waiting for a person', labelNames: ['workflowType'], registers: [registry] }),
  };
}

type ConsoleMetrics = ReturnType<typeof consoleMetrics>;

/**
 * The queue, read from Temporal at most once per `refreshMs` and only while someone looks: pages subscribe to
 * changes (a run arrives, someone decides) and re-read the queue when told.
 */
class QueueWatch {
  version = 0;
  private entries: WaitingEntry[] = [];
  private fingerprint = '';
  private readAt = 0;
  private reading: Promise<WaitingEntry[]> | null = null;
  private readonly listeners = new Set<(version: number) => void>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly governor: GovernorClient,
    private readonly refreshMs: number,
    private readonly metrics: ConsoleMetrics,
  ) {}

  async read(): Promise<WaitingEntry[]> {
    if (Date.now() - this.readAt < this.refreshMs) return this.entries;
    this.reading ??= this.governor
      .listWaiting()
      .then((entries) => {
        this.observe(entries);
        return entries;
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }

  /** Re-read soon: a decision was just accepted. */
  poke(): void {
    this.readAt = 0;
  }

  subscribe(listener: (version: number) => void): () => void {
    this.listeners.add(listener);
    this.timer ??= setInterval(() => void this.read().catch(() => undefined), this.refreshMs);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private observe(entries: WaitingEntry[]): void {
    this.entries = entries;
    this.readAt = Date.now();
    const now = Date.now();
    this.metrics.waiting.reset();
    this.metrics.oldest.reset();
    const oldest = new Map<string, number>();
    for (const e of entries) {
      const age = (now - Date.parse(e.startedAt)) / 1000;
      this.metrics.waiting.inc({ workflowType: e.workflowType, kind: e.decision?.kind ?? 'unknown' });
      oldest.set(e.workflowType, Math.max(oldest.get(e.workflowType) ?? 0, age));
    }
    for (const [workflowType, age] of oldest) this.metrics.oldest.set({ workflowType }, age);
    const fingerprint = entries.map((e) => `${e.workflowId}|${e.decision?.key ?? ''}|${e.decision?.deadline ?? ''}|${e.decision?.reminded?.length ?? 0}`).join('\n');
    if (fingerprint !== this.fingerprint) {
      this.fingerprint = fingerprint;
      this.version += 1;
      for (const l of this.listeners) l(this.version);
    }
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function loginPage(error: string | null): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · Governor review console</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/assets/console.css"></head>
<body class="login"><main><h1>Governor review console</h1>
<form method="post" action="/login"><label for="token">Sign-in token</label>
<textarea id="token" name="token" rows="4" required placeholder="the token from: governor console token --reviewer you --role reviewer"></textarea>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}<button type="submit">Sign in</button></form></main></body></html>`;
}

function appPage(csrfToken: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Review queue · Governor</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="csrf-token" content="${escapeHtml(csrfToken)}">
<link rel="stylesheet" href="/assets/console.css"></head><body><div id="app"></div><script type="module" src="/assets/app.js"></script></body></html>`;
}
