/**
 * Property-based fuzzing of every trigger contract and every decision payload, at the boundary that validates them:
 * `prepareStart` (what `GovernorClient.start` and the CLI run before contacting anything) for triggers and configs,
 * and each descriptor's decision schema (what `decide` and the workflows' update validators run) for decisions.
 *
 * Each contract is mirrored here by hand as arbitraries (so the schema is not its own oracle): valid payloads, plus
 * valid ones with up to three mutations — a field dropped, a value of the wrong type or out of range, an unknown key
 * (`__proto__` and `constructor` among them), junk (NaN, BigInt, dates, cycles, nested objects) in place of a value.
 * Every payload is either accepted, and the result validates again and survives JSON, or refused with issues that
 * name the mutated field and a rule; nothing else is thrown.
 *
 * fast-check prints the seed and path of a failure; `FUZZ_SEED=<seed> FUZZ_PATH=<path>` replays it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { z } from 'zod';
import { GradeInput } from '../../activities/reviews.js';
import { InvalidInputError, prepareStart } from '../../client/governor-client.js';
import { formatIssues, issuesFrom } from '../../contracts/issues.js';
import { MAX_TRIGGER_BYTES } from '../../contracts/trigger.js';
import type { AnyWorkflowDescriptor } from '../../workflows/descriptor.js';
import { creditWorkflow } from '../../examples/credits/credit-request.js';
import { agentWorkflow, complaintWorkflow, documentWorkflow, handoffWorkflow, triageWorkflow } from '../../examples/support/definitions.js';
import { assertNamesTargets, fieldOf, FUZZ_SCALE, fuzzRuns, isRecord, jsonOf, objectAt, put, survivesJson, type Case, type Expect, type Mutation, type Path, type Target } from '../helpers/fuzz.js';

/* ---- a hand-written mirror of each contract ---- */


/** A value: what the contract accepts there, and values it must refuse naming this field. */
interface Leaf {
  readonly kind: 'leaf';
  readonly valid: fc.Arbitrary<unknown>;
  readonly invalid: fc.Arbitrary<unknown>;
  readonly optional?: boolean;
}

/** A strict object: unknown keys are refused. */
interface Shape {
  readonly kind: 'object';
  readonly fields: Readonly<Record<string, Leaf | Shape>>;
  readonly optional?: boolean;
}

/** A contract is one shape, or a choice of shapes (a discriminated union: each variant is mutated on its own). */
type Contract = Shape | { readonly kind: 'oneOf'; readonly variants: readonly Shape[] };

/** An optional field may be left out, so `undefined` is no invalid value for it. */
const leaf = (valid: fc.Arbitrary<unknown>, invalid: fc.Arbitrary<unknown>, optional = false): Leaf => ({
  kind: 'leaf',
  valid,
  invalid: optional ? invalid.filter((v) => v !== undefined) : invalid,
  optional,
});
const shape = (fields: Shape['fields']): Shape => ({ kind: 'object', fields });

/** Values JSON has no room for, or that a careless producer sends: each is junk wherever it lands. */
const EXOTIC: readonly unknown[] = [
  NaN, Infinity, -Infinity, -0, Number.MAX_VALUE, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER + 2, 1e21,
  undefined, null, true, false, '', ' ', '\u0000', '\u202e', '\ud800', '\ufeff', 'null', '__proto__', [], {}, [null],
  10n, 2n ** 70n, Symbol('junk'), new Date(0), new Date(Number.NaN), new Map([['a', 1]]), new Set([1]), /x/, () => 1,
];

/** A fresh object that contains itself: JSON cannot carry it. */
const cyclic = fc.constant(null).map(() => {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
});

/** Keys that break naive object handling, and ordinary unknown ones. */
const strangeKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'toJSON', '', ' ', '.', 'a.b', '\u0000', 'EVENT', 'Event'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...EXOTIC),
  cyclic,
  fc.anything({ maxDepth: 3, key: strangeKey, withBigInt: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withBoxedValues: true, withSparseArray: true }),
  fc.jsonValue({ maxDepth: 3 }),
);

const notA = (type: 'string' | 'number' | 'boolean' | 'object') =>
  junk.filter((v) => (type === 'object' ? typeof v !== 'object' || v === null || Array.isArray(v) : typeof v !== type));

/** Whitespace JavaScript's `trim` removes, with the odd ones (no-break space, line separator, BOM). */
const blank = fc.stringMatching(/^[ \t\n\r\u00a0\u2028\ufeff]{0,4}$/);

/** Strings of every kind of character: ASCII, any code point (control characters, lone surrogates), graphemes. */
const anyText = (maxLength: number) =>
  fc.oneof(fc.string({ maxLength }), fc.string({ unit: 'binary', maxLength }), fc.string({ unit: 'grapheme', maxLength }));

/** NUL, or half of a surrogate pair: what PostgreSQL cannot keep. */
const unstorable = (s: string) => s.includes('\u0000') || /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
const UNSTORABLE_TEXT = ['a\u0000b', '\u0000', 'x\ud800', '\udc00y'];

/**
 * A string whose length (in code points, as zod counts; trimmed when `trim`) is at least `min` and at most `max` (no
 * bound when null); the boundary lengths are among the valid values, one more than `max` among the invalid. A
 * `stored` string (kept in PostgreSQL as it is) may hold no NUL or half of a surrogate pair.
 */
function text(min: number, max: number | null, o: { trim?: boolean; optional?: boolean; stored?: boolean } = {}): Leaf {
  const trim = o.trim ?? false;
  const measured = (s: string) => [...(trim ? s.trim() : s)].length;
  const small = anyText(Math.min(max ?? 24, 24)).filter((s) => measured(s) >= min && measured(s) <= (max ?? Infinity) && !(o.stored && unstorable(s)));
  // Megabyte strings cost milliseconds each: rarer, so the file stays quick.
  const edge = max !== null && max > 100_000 ? 1 : 5;
  const valid =
    max === null
      ? small
      : fc.oneof(
          { weight: 20, arbitrary: small },
          { weight: edge, arbitrary: fc.constantFrom('x', 'é', '日', '😀').map((c) => c.repeat(max)).map((s) => (trim ? ` ${s}\n` : s)) },
        );
  const invalid = fc.oneof(
    { weight: 5, arbitrary: notA('string') },
    ...(max === null ? [] : [{ weight: edge, arbitrary: fc.constantFrom('x', '€', '日', '😀').map((c) => c.repeat(max + 1)) }]),
    ...(min > 0 ? [{ weight: 5, arbitrary: trim ? blank : fc.constant('') }] : []),
    ...(o.stored ? [{ weight: 3, arbitrary: fc.constantFrom(...UNSTORABLE_TEXT) }] : []),
  );
  return leaf(valid, invalid, o.optional);
}

/** An id `<prefix>_<1..64 of [A-Za-z0-9_-]>` (the contracts' `id()`), or with another `body` and bound. */
function id(prefix: string, body = /^[A-Za-z0-9_-]{1,64}$/, max: number | null = 64): Leaf {
  const valid = fc.stringMatching(body).map((s) => `${prefix}_${s}`);
  const invalid = fc.oneof(
    fc.constantFrom('', prefix, `${prefix}_`, `${prefix}-abc`, `${prefix.toUpperCase()}_abc`, `x${prefix}_abc`, `${prefix}_abc\n`, ` ${prefix}_abc`),
    ...(max === null ? [] : [fc.constant(`${prefix}_${'a'.repeat(max + 1)}`)]),
    fc.constantFrom(' ', '/', '.', ':', 'é', '\u0000', '💥', '\u202e').map((c) => `${prefix}_ab${c}cd`),
    notA('string'),
  );
  return leaf(valid, invalid);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** ISO-8601 date-times with seconds and a `Z` or `±hh:mm` offset, any fraction of a second. */
const isoTime: Leaf = leaf(
  fc
    .tuple(fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), fc.constantFrom('ms', 's', 'us'), fc.option(fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 14 }), fc.integer({ min: 0, max: 59 }))))
    .map(([d, precision, offset]) => {
      const [date, time] = d.toISOString().slice(0, -1).split('T') as [string, string];
      const clock = precision === 'ms' ? time : precision === 's' ? time.slice(0, 8) : `${time}123`;
      return `${date}T${clock}${offset ? `${offset[0]}${pad(offset[1])}:${pad(offset[2])}` : 'Z'}`;
    }),
  fc.oneof(
    fc.constantFrom(
      'yesterday', '', '2026-11-21', '2026-11-21T14:22:10', '2026-11-21 14:22:10Z', '2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z',
      '2026-11-21T24:00:00Z', '2026-11-21T14:22:60Z', '2026-11-21T14:22:10+0200', '2026-11-21T14:22Z', '+012026-11-21T14:22:10Z',
      '2026-11-21T14:22:10Z ', ' 2026-11-21T14:22:10Z', '2026-11-21T14:22:10.Z', '2023-02-29T00:00:00Z',
    ),
    notA('string'),
  ),
);

function oneOf(values: readonly string[], o: { optional?: boolean } = {}): Leaf {
  const invalid = fc.oneof(
    fc.constantFrom(...values.flatMap((v) => [v.toUpperCase(), ` ${v}`, `${v}\n`, `${v}s`])),
    fc.string({ maxLength: 10 }),
    notA('string'),
  );
  return leaf(fc.constantFrom(...values), invalid.filter((v) => typeof v !== 'string' || !values.includes(v)), o.optional);
}

function literal(value: string | number, o: { optional?: boolean } = {}): Leaf {
  const invalid = typeof value === 'string' ? fc.oneof(fc.constantFrom(value.toUpperCase(), `${value} `, `${value}.v2`), notA('string')) : fc.oneof(fc.constantFrom(value + 1, 0, -value, value + 0.5, String(value)), notA('number'));
  return leaf(fc.constant(value), invalid.filter((v) => v !== value), o.optional);
}

function integer(min: number, max: number, o: { optional?: boolean } = {}): Leaf {
  return leaf(fc.integer({ min, max }), fc.oneof(fc.constantFrom(min - 1, max + 1, min + 0.5, NaN, Infinity, -Infinity, String(min), 2 ** 53), notA('number')), o.optional);
}

const bool: Leaf = leaf(fc.boolean(), fc.oneof(fc.constantFrom('true', 'false', 0, 1, 'yes'), notA('boolean')));

/** An array of `item`, at most `max` long; refused when longer, or when one element is refused. */
function list(item: Leaf, max: number, o: { optional?: boolean } = {}): Leaf {
  const invalid = fc.oneof(
    fc.array(item.valid, { minLength: max + 1, maxLength: max + 3 }),
    fc.tuple(fc.array(item.valid, { maxLength: max - 1 }), item.invalid, fc.nat()).map(([items, bad, at]) => {
      const copy = [...items];
      copy.splice(at % (copy.length + 1), 0, bad);
      return copy;
    }),
    notA('object').filter((v) => !Array.isArray(v)),
    fc.constant({ 0: 'a', length: 1 }),
  );
  return leaf(fc.array(item.valid, { maxLength: max }), invalid, o.optional);
}

/* ---- the contracts, as the schemas in examples/ state them ---- */

const customer = shape({
  id: id('cus'),
  plan: oneOf(['free', 'starter', 'pro', 'enterprise']),
  arr: leaf(
    fc.oneof(fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true }), fc.integer({ min: 0, max: 10_000_000 })),
    fc.oneof(fc.double({ max: -Number.MIN_VALUE, noNaN: true }), fc.constantFrom(NaN, Infinity, '2400', -1), notA('number')),
  ),
  region: text(2, 16),
});

const CHANNELS = ['email', 'chat', 'web', 'phone', 'api'];

const ticketCreated = shape({
  event: literal('support_ticket.created'),
  schema_version: literal(1, { optional: true }),
  event_id: id('evt'),
  created_at: isoTime,
  ticket: shape({
    id: id('tkt'),
    subject: text(1, 300, { trim: true }),
    body: text(1, 20_000, { trim: true }),
    channel: oneOf(CHANNELS),
    language: leaf(
      fc.tuple(fc.stringMatching(/^[a-z]{2}$/), fc.option(fc.stringMatching(/^[A-Z]{2}$/))).map(([l, r]) => (r ? `${l}-${r}` : l)),
      fc.oneof(fc.constantFrom('EN', 'e', 'eng', 'en-gb', 'en_GB', 'en-GB-x', 'en ', ''), notA('string')),
    ),
  }),
  customer,
});

const complaintReceived = shape({
  event: literal('complaint.received'),
  schema_version: literal(1, { optional: true }),
  event_id: id('evt'),
  created_at: isoTime,
  complaint: shape({
    id: id('cmp'),
    ticket_id: id('tkt'),
    subject: text(1, 300, { trim: true }),
    body: text(1, 20_000, { trim: true }),
    channel: oneOf(CHANNELS),
  }),
  customer,
});

const agentRequested = shape({
  event: literal('support_agent.requested'),
  schema_version: literal(1, { optional: true }),
  event_id: id('evt'),
  created_at: isoTime,
  ticket_id: id('tkt'),
  customer_id: id('cus'),
  task: text(1, 2_000, { trim: true }),
  pinned: list(text(1, 300, { trim: true }), 10, { optional: true }),
});

const documentSubmitted = shape({
  event: literal('document.submitted'),
  schema_version: literal(1, { optional: true }),
  event_id: id('evt'),
  created_at: isoTime,
  document_id: id('doc'),
  title: text(1, 300, { trim: true }),
  text: text(1, 2_000_000, { trim: true }),
});

const handoffInput = shape({
  taskId: leaf(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.oneof(fc.constantFrom('', 'a b', 'a/b', 'a'.repeat(65), 'ab\n', 'é'), notA('string'))),
  category: text(1, 40),
  limit: integer(1, 500, { optional: true }),
});

const creditRequested = shape({
  event: literal('credit.requested'),
  event_id: id('evt', /^\w{1,64}$/),
  customer_id: id('cus', /^\w{1,80}$/, null),
  message: text(1, 2_000),
});

/** Ids of people who decide: anything but blank (the contracts bound no length; the system fuzz sends long ones). */
const reviewerId = text(1, null, { trim: true });
const note = (max: number) => text(0, max, { optional: true });

const review = (action: string, extra: Shape['fields'] = {}) => shape({ action: literal(action), reviewerId, note: note(500), ...extra });
const reviewDecision: Contract = {
  kind: 'oneOf',
  variants: [
    review('approve'),
    review('reject'),
    review('correct', { corrected: shape({ category: oneOf(['billing', 'bug', 'sales', 'account', 'how_to', 'other']), urgency: oneOf(['low', 'medium', 'high']) }) }),
  ],
};

const approvalDecision = shape({ stepId: text(1, null), approved: bool, reviewerId, note: note(500) });
const humanResolution = shape({ reviewerId, note: note(1_000) });
const agentGuidance = shape({ reviewerId, guidance: text(1, 1_000, { trim: true }) });
const approveCredit = shape({ stepId: text(0, null), approved: bool, reviewerId: text(1, null) });

/** Only an `incorrect` grade may carry a corrected output; everything is kept in PostgreSQL. */
const stored = (max: number, optional = false) => text(optional ? 0 : 1, max, { trim: !optional, optional, stored: true });
const unstorableJson = fc.oneof(fc.constant(10n), cyclic, fc.constantFrom(...UNSTORABLE_TEXT).map((s) => ({ text: s })), fc.constantFrom(...UNSTORABLE_TEXT).map((s) => ({ [s]: 1 })), fc.constantFrom(...UNSTORABLE_TEXT).map((s) => [[s]]));
const gradeRequest: Contract = {
  kind: 'oneOf',
  variants: [
    shape({ workflowId: stored(500), reviewer: stored(500), verdict: literal('correct'), corrected: leaf(fc.constant(null), fc.jsonValue().filter((v) => v !== null), true), reason: stored(2_000, true) }),
    shape({ workflowId: stored(500), reviewer: stored(500), verdict: literal('incorrect'), corrected: leaf(fc.jsonValue(), unstorableJson, true), reason: stored(2_000, true) }),
  ],
};

/* ---- generated cases: valid payloads and mutations of them ---- */


function setAt(path: Path, value: unknown, expect: Expect, what: string): Mutation {
  return {
    what: `${what} at ${fieldOf(path)}`,
    target: { path },
    expect,
    apply: (root) => {
      const parent = objectAt(root, path.slice(0, -1));
      if (parent) put(parent, path.at(-1)!, value);
    },
  };
}

function mutationsOf(s: Shape): fc.Arbitrary<Mutation> {
  const choices: fc.Arbitrary<Mutation>[] = [];
  const walk = (node: Shape, path: Path) => {
    choices.push(
      fc.tuple(strangeKey.filter((k) => !Object.hasOwn(node.fields, k)), fc.oneof(junk, fc.string())).map(([key, value]) => ({
        what: `unknown key ${JSON.stringify(key)} at ${fieldOf(path)}`,
        target: { path, key },
        expect: 'refuse' as const,
        apply: (root: unknown) => {
          const o = objectAt(root, path);
          if (o) put(o, key, value);
        },
      })),
    );
    for (const [key, field] of Object.entries(node.fields)) {
      const at = [...path, key];
      choices.push(
        (field.kind === 'leaf' ? field.invalid : notA('object')).map((v) => setAt(at, v, 'refuse', 'invalid value')),
        junk.map((v) => setAt(at, v, 'either', 'junk')),
        fc.constant<Mutation>({
          what: `${fieldOf(at)} left out`,
          target: { path: at },
          expect: field.optional ? 'accept' : 'refuse',
          apply: (root) => void delete objectAt(root, path)?.[key],
        }),
      );
      if (field.kind === 'object') walk(field, at);
    }
  };
  walk(s, []);
  return fc.oneof(...choices);
}

const span = (t: Target) => (t.key === undefined ? t.path : [...t.path, t.key]);
const within = (a: Path, b: Path) => a.length <= b.length && a.every((k, i) => b[i] === k);

/** Valid payloads of the contract (a quarter of the cases), and valid ones with one to three mutations. */
function casesOf(contract: Contract): fc.Arbitrary<Case> {
  const shapes = contract.kind === 'oneOf' ? contract.variants : [contract];
  const perShape = shapes.map((s) =>
    fc.tuple(validOf(s), fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 3, arbitrary: fc.array(mutationsOf(s), { minLength: 1, maxLength: 3 }) })).map(([value, drawn]) => {
      // Mutations on overlapping paths would hide each other: keep those on disjoint ones.
      const kept: Mutation[] = [];
      for (const m of drawn) if (!kept.some((k) => within(span(k.target), span(m.target)) || within(span(m.target), span(k.target)))) kept.push(m);
      const payload = structuredClone(value);
      for (const m of kept) m.apply(payload);
      const expect: Expect = kept.some((m) => m.expect === 'refuse') ? 'refuse' : kept.every((m) => m.expect === 'accept') ? 'accept' : 'either';
      return { payload, targets: kept.map((m) => m.target), expect, mutations: kept.map((m) => m.what) };
    }),
  );
  const whole = junk.map((payload): Case => ({ payload, targets: [{ path: [] }], expect: 'either', mutations: ['junk in place of the payload'] }));
  return fc.oneof({ weight: 8, arbitrary: fc.oneof(...perShape) }, { weight: 1, arbitrary: whole });
}

function validOf(node: Leaf | Shape): fc.Arbitrary<unknown> {
  if (node.kind === 'leaf') return node.valid;
  const entries = Object.entries(node.fields);
  return fc.record(Object.fromEntries(entries.map(([k, f]) => [k, validOf(f)])), { requiredKeys: entries.filter(([, f]) => !f.optional).map(([k]) => k) });
}

/* ---- the properties ---- */


/**
 * Counts outcomes, so a property that only ever refuses (or only accepts) fails instead of passing vacuously. Not
 * checked when replaying one case.
 */
class Tally {
  accepted = 0;
  refused = 0;
  check(numRuns: number): void {
    if (process.env.FUZZ_PATH) return;
    assert.ok(this.accepted >= numRuns * 0.05, `only ${this.accepted} of ${numRuns} payloads accepted: the generators drifted from the contract`);
    assert.ok(this.refused >= numRuns * 0.3, `only ${this.refused} of ${numRuns} payloads refused: the mutations do not reach the contract`);
  }
}

/** Far above any validation's cost: a payload that takes this long is a hang in the making (a backtracking pattern). */
const SLOW_MS = 1_000;

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();



/** An accepted value is valid again as it is, and after a trip through JSON (what Temporal's converter does). */
function assertStable(schema: z.ZodType, value: unknown): void {
  const text = jsonOf(value);
  assert.ok(text !== null, 'an accepted value JSON cannot carry');
  const again = schema.safeParse(JSON.parse(text));
  assert.ok(again.success, `the accepted value is refused after JSON: ${again.success ? '' : formatIssues(issuesFrom(again.error))}`);
  assert.equal(JSON.stringify(again.data), text, 'validating the accepted value changed it');
}

function timed<T>(fn: () => T): T {
  const started = performance.now();
  const result = fn();
  const ms = performance.now() - started;
  assert.ok(ms < SLOW_MS, `validation took ${ms.toFixed(0)} ms`);
  return result;
}

const MODEL = { provider: 'anthropic', model: null } as const;

/** How the case reaches the client: the object itself, or its JSON text (with a byte-order mark, pretty, or cut short). */
const form = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ as: 'object' as const }) },
  { weight: 2, arbitrary: fc.record({ as: fc.constant('text' as const), bom: fc.boolean(), indent: fc.boolean(), cutAt: fc.option(fc.nat(), { freq: 6 }) }) },
);

interface TriggerContract {
  readonly name: string;
  readonly descriptor: AnyWorkflowDescriptor;
  readonly contract: Contract;
  /** The workflow id the run must get, from the accepted event. */
  readonly workflowId: (event: Record<string, unknown>) => string;
}

const TRIGGERS: readonly TriggerContract[] = [
  { name: 'support_ticket.created (supportTicketTriage)', descriptor: triageWorkflow, contract: ticketCreated, workflowId: (e) => `triage/${String(e.event_id)}` },
  { name: 'complaint.received (complaintEscalation)', descriptor: complaintWorkflow, contract: complaintReceived, workflowId: (e) => `complaint/${String(e.event_id)}` },
  { name: 'support_agent.requested (supportAgent)', descriptor: agentWorkflow, contract: agentRequested, workflowId: (e) => `agent/${String(e.event_id)}` },
  { name: 'document.submitted (documentPipeline)', descriptor: documentWorkflow, contract: documentSubmitted, workflowId: (e) => `document/${String(e.event_id)}` },
  { name: 'handoff input (agentHandoff)', descriptor: handoffWorkflow, contract: handoffInput, workflowId: (e) => `handoff/${String(e.taskId)}` },
  { name: 'credit.requested (creditRequest, the package example)', descriptor: creditWorkflow as AnyWorkflowDescriptor, contract: creditRequested, workflowId: (e) => `credit/${String(e.event_id)}` },
];

const TRIGGER_RUNS = 3_000 * FUZZ_SCALE;

describe('trigger contracts under generated payloads (prepareStart, as start and the CLI run it)', () => {
  for (const t of TRIGGERS) {
    it(`${t.name}: accepted and startable, or refused naming the field`, () => {
      const tally = new Tally();
      fc.assert(
        fc.property(casesOf(t.contract), form, (c, how) => {
          let input: unknown = c.payload;
          let expect = c.expect;
          let cut = false;
          if (how.as === 'text' && survivesJson(c.payload)) {
            const text = JSON.stringify(c.payload, null, how.indent ? 2 : undefined);
            // Any proper prefix of an object's text is broken JSON (a number's need not be).
            cut = how.cutAt !== null && isRecord(c.payload);
            input = `${how.bom ? '\ufeff' : ''}${cut ? text.slice(0, how.cutAt! % text.length) : text}`;
          }
          const bytes = jsonOf(c.payload) === null ? 0 : new TextEncoder().encode(how.as === 'text' && typeof input === 'string' ? input.replace(/^\ufeff/, '') : jsonOf(c.payload)!).length;
          if (cut || bytes > MAX_TRIGGER_BYTES) expect = 'refuse';

          let outcome: { ok: true; prepared: ReturnType<typeof prepareStart> } | { ok: false; err: InvalidInputError };
          try {
            outcome = { ok: true, prepared: timed(() => prepareStart(t.descriptor, input, {}, MODEL)) };
          } catch (err) {
            if (!(err instanceof InvalidInputError)) throw new Error(`threw ${String(err)} instead of refusing (${c.mutations.join('; ')})`, { cause: err });
            outcome = { ok: false, err };
          }
          assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_KEYS, 'Object.prototype was changed');

          if (outcome.ok) {
            tally.accepted++;
            assert.notEqual(expect, 'refuse', `accepted despite: ${c.mutations.join('; ')}`);
            const { prepared } = outcome;
            const event = (t.descriptor.trigger.eventType === null ? prepared.input : (prepared.input as { event: unknown }).event) as Record<string, unknown>;
            assert.equal(prepared.workflowType, t.descriptor.name);
            assert.equal(prepared.workflowId, t.workflowId(event));
            assertStable(t.descriptor.trigger.schema, event);
            assert.ok(jsonOf(prepared.input) !== null, 'the run argument JSON cannot carry');
            return;
          }
          const { err } = outcome;
          tally.refused++;
          assert.notEqual(expect, 'accept', `refused a valid payload (${c.mutations.join('; ') || 'unchanged'}): ${err.message}`);
          assert.equal(err.what, 'trigger');
          assert.equal(err.message, `invalid trigger: ${formatIssues(err.issues)}`);
          if (bytes > MAX_TRIGGER_BYTES) {
            assert.deepEqual(err.issues, [{ field: '(root)', rule: `payload is ${bytes} bytes; the limit is ${MAX_TRIGGER_BYTES}` }]);
          } else if (cut) {
            assert.deepEqual(err.issues.map((i) => i.field), ['(root)']);
            assert.match(err.issues[0]!.rule, /not valid JSON/);
          } else {
            assertNamesTargets(err.issues, c);
          }
        }),
        fuzzRuns(TRIGGER_RUNS),
      );
      tally.check(TRIGGER_RUNS);
    });
  }

  it('a payload JSON cannot carry (a BigInt, a cycle) is refused naming where it sits, not thrown', () => {
    const event = { event: 'support_ticket.created', event_id: 'evt_big', created_at: '2026-11-21T14:22:10Z', ticket: { id: 'tkt_1', subject: 's', body: 'b', channel: 'email', language: 'en' }, customer: { id: 'cus_1', plan: 'pro', arr: 10n, region: 'us' } };
    assert.throws(() => prepareStart(triageWorkflow, event, {}, MODEL), (err: unknown) => err instanceof InvalidInputError && err.issues[0]?.field === 'customer.arr' && /BigInt/.test(err.issues[0].rule));
    const loop: Record<string, unknown> = { ...event, customer: { ...event.customer, arr: 1 } };
    (loop.ticket as Record<string, unknown>).again = loop;
    assert.throws(() => prepareStart(triageWorkflow, loop, {}, MODEL), (err: unknown) => err instanceof InvalidInputError && err.issues[0]?.field === 'ticket.again' && /cycle/.test(err.issues[0].rule));
  });
});

interface DecisionContract {
  readonly name: string;
  readonly descriptor: AnyWorkflowDescriptor;
  readonly verb: string;
  readonly contract: Contract;
}

const DECISIONS: readonly DecisionContract[] = [
  { name: 'triage review (approve / reject / correct)', descriptor: triageWorkflow, verb: 'review', contract: reviewDecision },
  { name: 'complaint approve-action', descriptor: complaintWorkflow, verb: 'approve-action', contract: approvalDecision },
  { name: 'complaint resolve (a human task)', descriptor: complaintWorkflow, verb: 'resolve', contract: humanResolution },
  { name: 'agent approve-action', descriptor: agentWorkflow, verb: 'approve-action', contract: approvalDecision },
  { name: 'agent guide', descriptor: agentWorkflow, verb: 'guide', contract: agentGuidance },
  { name: 'credit approve (the package example)', descriptor: creditWorkflow as AnyWorkflowDescriptor, verb: 'approve', contract: approveCredit },
];

const DECISION_RUNS = 4_000 * FUZZ_SCALE;

/** Validation of one schema as the client and the workflows' update validators do it: the value, or named issues. */
function judge(schema: z.ZodType, c: Case, tally: Tally): void {
  const parsed = timed(() => schema.safeParse(c.payload));
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_KEYS, 'Object.prototype was changed');
  tally[parsed.success ? 'accepted' : 'refused']++;
  if (parsed.success) {
    assert.notEqual(c.expect, 'refuse', `accepted despite: ${c.mutations.join('; ')}`);
    assertStable(schema, parsed.data);
    return;
  }
  const issues = issuesFrom(parsed.error);
  assert.notEqual(c.expect, 'accept', `refused a valid payload (${c.mutations.join('; ') || 'unchanged'}): ${formatIssues(issues)}`);
  assertNamesTargets(issues, c);
}

describe('decision payloads under generated payloads (the schemas decide and the update validators use)', () => {
  for (const d of DECISIONS) {
    it(`${d.name}: accepted, or refused naming the field`, () => {
      const decision = d.descriptor.decisions[d.verb];
      assert.ok(decision, `${d.descriptor.name} has no ${d.verb} decision`);
      const tally = new Tally();
      fc.assert(
        fc.property(casesOf(d.contract), (c) => judge(decision.schema, c, tally)),
        fuzzRuns(DECISION_RUNS),
      );
      tally.check(DECISION_RUNS);
    });
  }

  it('a grade (gradeRun, the console): accepted and storable, or refused naming the field', () => {
    const tally = new Tally();
    fc.assert(
      fc.property(casesOf(gradeRequest), (c) => judge(GradeInput, c, tally)),
      fuzzRuns(DECISION_RUNS),
    );
    tally.check(DECISION_RUNS);
  });
});

const CONFIG_RUNS = 1_000 * FUZZ_SCALE;

describe('per-run configs under generated settings (prepareStart)', () => {
  const TRIGGER_FOR: Record<string, unknown> = {
    supportTicketTriage: { event: 'support_ticket.created', event_id: 'evt_cfg', created_at: '2026-11-21T14:22:10Z', ticket: { id: 'tkt_c', subject: 's', body: 'b', channel: 'email', language: 'en' }, customer: { id: 'cus_c', plan: 'pro', arr: 1, region: 'us' } },
    complaintEscalation: { event: 'complaint.received', event_id: 'evt_cfg', created_at: '2026-11-21T14:22:10Z', complaint: { id: 'cmp_c', ticket_id: 'tkt_c', subject: 's', body: 'b', channel: 'email' }, customer: { id: 'cus_c', plan: 'pro', arr: 1, region: 'us' } },
    supportAgent: { event: 'support_agent.requested', event_id: 'evt_cfg', created_at: '2026-11-21T14:22:10Z', ticket_id: 'tkt_c', customer_id: 'cus_c', task: 'look' },
    documentPipeline: { event: 'document.submitted', event_id: 'evt_cfg', created_at: '2026-11-21T14:22:10Z', document_id: 'doc_cfg', title: 't', text: 'x' },
    agentHandoff: { taskId: 'cfg', category: 'billing' },
    creditRequest: { event: 'credit.requested', event_id: 'evt_cfg', customer_id: 'cus_c', message: 'm' },
  };
  for (const t of TRIGGERS) {
    it(`${t.descriptor.name}: a setting is accepted, or refused naming it; an unknown one is refused`, () => {
      const trigger = TRIGGER_FOR[t.descriptor.name];
      // The base case must start, or every refusal below would prove nothing.
      prepareStart(t.descriptor, trigger, {}, MODEL);
      const keys = Object.keys((t.descriptor.config as unknown as { shape: Record<string, unknown> }).shape);
      const known = keys.length > 0 ? [fc.tuple(fc.constantFrom(...keys), junk).map(([key, value]) => ({ key, value, unknown: false }))] : [];
      const unknownKey = fc.tuple(strangeKey.filter((k) => !keys.includes(k)), junk).map(([key, value]) => ({ key, value, unknown: true }));
      fc.assert(
        fc.property(fc.oneof(...known, unknownKey), ({ key, value, unknown }) => {
          const config = put({}, key, value);
          try {
            timed(() => prepareStart(t.descriptor, trigger, config, MODEL));
            assert.ok(!unknown, `unknown setting ${JSON.stringify(key)} accepted`);
          } catch (err) {
            if (!(err instanceof InvalidInputError)) throw new Error(`threw ${String(err)} instead of refusing ${JSON.stringify(key)}`, { cause: err });
            assert.equal(err.what, 'config');
            assertNamesTargets(err.issues, { payload: config, targets: [unknown ? { path: [], key } : { path: [key] }], expect: 'either', mutations: [`setting ${JSON.stringify(key)}`] });
          }
        }),
        fuzzRuns(CONFIG_RUNS),
      );
    });
  }
});
