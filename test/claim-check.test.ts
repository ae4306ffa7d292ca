import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { AesGcmPayloadCodec, CLAIM_CHECK_ENCODING, ClaimCheckCodec, openStore, startCodecServer, type Store } from 'governor/worker';
import { startHarness, ticketEvent, type Harness } from './helpers/harness.js';

const THRESHOLD = 2048;
const enc = new TextEncoder();
const payload = (text: string): Payload => ({ metadata: { encoding: enc.encode('json/plain') }, data: enc.encode(JSON.stringify(text)) });
/** A long ticket, as a pasted email thread is: about 15,000 characters. */
const LONG_BODY = `How do I use auto top up? ${'I pasted the whole thread below so you can see what happened with my card and my account. '.repeat(160)}`.slice(0, 15_000);

describe('claim check: large payloads kept in the store, their hash in history', () => {
  let store: Store;
  before(async () => {
    store = await openStore();
  });
  after(async () => {
    await store?.close();
  });

  it('round-trips, stores each content once, leaves small payloads alone, and refuses an altered or missing one', async () => {
    const codec = new ClaimCheckCodec({ store, thresholdBytes: THRESHOLD });
    const big = payload('x'.repeat(10_000));
    const small = payload('short');
    const encoded = await codec.encode([big, small, big]);
    assert.equal(new TextDecoder().decode(encoded[0]!.metadata!.encoding), CLAIM_CHECK_ENCODING);
    assert.ok(proto.temporal.api.common.v1.Payload.encode(encoded[0]!).finish().length < 200, 'a reference of constant size');
    assert.deepEqual(encoded[1], small, 'under the threshold: as it was');
    const rows = await store.db.query<{ n: string }>('select count(*)::text as n from claim_checks');
    assert.equal(rows.rows[0]!.n, '1', 'the same content is stored once');
    const decoded = await codec.decode(encoded);
    assert.deepEqual(decoded.map((p) => Buffer.from(p.data!).toString()), [big, small, big].map((p) => Buffer.from(p.data!).toString()));

    await store.db.query("update claim_checks set body = body || '\\x00'::bytea");
    await assert.rejects(codec.decode([encoded[0]!]), /does not match its hash: it was altered/);
    await store.db.query('delete from claim_checks');
    await assert.rejects(codec.decode([encoded[0]!]), /is not in the store \(pglite:memory\)/);
    assert.throws(() => new ClaimCheckCodec({ store, thresholdBytes: 10 }), /thresholdBytes must be a whole number of at least 256/);
    await assert.rejects(new ClaimCheckCodec({ store, thresholdBytes: 256, maxBytes: 1024 }).encode([big]), /above the 1024-byte limit/);
  });

  it('after encryption, the store holds ciphertext', async () => {
    const aes = new AesGcmPayloadCodec({ current: 'k1', keys: { k1: new Uint8Array(32).fill(3) } });
    const codec = new ClaimCheckCodec({ store, thresholdBytes: THRESHOLD });
    const secret = payload(`card 4111 1111 1111 1111 ${'y'.repeat(5000)}`);
    const sealed = await codec.encode(await aes.encode([secret]));
    const stored = await store.db.query<{ body: Uint8Array }>('select body from claim_checks');
    assert.ok(!stored.rows.some((r) => Buffer.from(r.body).toString('latin1').includes('4111')), 'no plaintext in the store');
    assert.equal(Buffer.from((await aes.decode(await codec.decode(sealed)))[0]!.data!).toString(), Buffer.from(secret.data!).toString());

    // The Web UI's codec server resolves the reference from the store, then decrypts: the person sees the payload.
    const token = 'a-codec-token-for-the-ui';
    const server = await startCodecServer({ codec: aes, claimCheck: codec, token, corsOrigins: ['http://127.0.0.1:8233'] });
    try {
      const body = { payloads: sealed.map((p) => ({ metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') })) };
      const res = await fetch(`${server.url}/decode`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(res.status, 200);
      const decoded = (await res.json()) as { payloads: Array<{ data: string }> };
      assert.equal(Buffer.from(decoded.payloads[0]!.data, 'base64').toString(), Buffer.from(secret.data!).toString());
    } finally {
      await server.close();
    }
  });
});

describe('claim check on a worker: a long ticket through a triage run', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ claimCheckBytes: THRESHOLD });
  });
  after(async () => {
    await h?.close();
  });

  it('history carries references, not the ticket; the run, its state and its replay are unchanged', async () => {
    const { workflowId } = await h.client.startTriage(ticketEvent({ subject: 'Auto top up', body: LONG_BODY }));
    const result = await h.client.triageResult(workflowId);
    assert.equal(result.category, 'billing', 'the model saw the whole ticket and answered as without a claim check');
    const state = await h.client.triageState(workflowId);
    assert.equal(state.phase, 'completed', 'the state query answers through the codec');

    const history = await h.client.client.workflow.getHandle(workflowId).fetchHistory();
    const raw = proto.temporal.api.history.v1.History.encode(history).finish().length;
    const payloads: Payload[] = [];
    const collect = (value: unknown): void => {
      if (!value || typeof value !== 'object') return;
      if ('metadata' in value && 'data' in value) payloads.push(value as Payload);
      else for (const v of Object.values(value)) collect(v);
    };
    collect(history.events);
    const referenced = payloads.filter((p) => new TextDecoder().decode(p.metadata?.encoding ?? new Uint8Array()) === CLAIM_CHECK_ENCODING);
    assert.ok(referenced.length >= 2, `the trigger and the model's prompt are references (${referenced.length})`);
    const largest = Math.max(...payloads.map((p) => proto.temporal.api.common.v1.Payload.encode(p).finish().length));
    assert.ok(largest <= THRESHOLD, `no payload in history above the threshold (largest ${largest} bytes)`);
    const codec = new ClaimCheckCodec({ store: h.store, thresholdBytes: THRESHOLD });
    const restored = (await codec.decode(referenced)).reduce((n, p) => n + proto.temporal.api.common.v1.Payload.encode(p).finish().length, 0);
    assert.ok(raw < restored / 3, `history ${raw} bytes; the payloads it references would add ${restored}`);

    // Replay decodes the references from the store, as a worker restarted mid-run would.
    await Worker.runReplayHistory({ workflowBundle: h.bundle, dataConverter: { payloadCodecs: [codec] } }, history, workflowId);
  });
});
