import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { AesGcmPayloadCodec, codecKeysFromEnv, startCodecServer, type CodecServer } from 'governor/worker';
import { startHarness, ticketEvent, type Harness } from './helpers/harness.js';

const k1 = new Uint8Array(randomBytes(32));
const k2 = new Uint8Array(randomBytes(32));
const SECRET = 'my card ending 4242 was charged twice by Zanzibar Books';

describe('payload encryption: AES-256-GCM codec', () => {
  const payload = defaultPayloadConverter.toPayload({ body: SECRET })!;

  it('round-trips, names its key, and leaves no plaintext', async () => {
    const codec = new AesGcmPayloadCodec({ current: 'k1', keys: { k1 } });
    const [sealed] = await codec.encode([payload]);
    assert.equal(Buffer.from(sealed!.metadata!['encryption-key-id']!).toString(), 'k1');
    assert.ok(!Buffer.from(sealed!.data!).includes(Buffer.from('Zanzibar')));
    assert.deepEqual(defaultPayloadConverter.fromPayload((await codec.decode([sealed!]))[0]!), { body: SECRET });
  });

  it('after a rotation, payloads sealed with the old key still open; an unknown key or an altered byte does not', async () => {
    const [old] = await new AesGcmPayloadCodec({ current: 'k1', keys: { k1 } }).encode([payload]);
    const rotated = new AesGcmPayloadCodec({ current: 'k2', keys: { k2, k1 } });
    assert.deepEqual(defaultPayloadConverter.fromPayload((await rotated.decode([old!]))[0]!), { body: SECRET });
    const [fresh] = await rotated.encode([payload]);
    assert.equal(Buffer.from(fresh!.metadata!['encryption-key-id']!).toString(), 'k2');
    await assert.rejects(new AesGcmPayloadCodec({ current: 'k1', keys: { k1 } }).decode([fresh!]), /key "k2", which this codec does not hold/);
    const altered: Payload = { ...old!, data: Uint8Array.from(old!.data!, (b, i) => (i === 20 ? b ^ 1 : b)) };
    await assert.rejects(rotated.decode([altered]), /failed authentication/);
  });

  it('keys from the environment are checked, naming the rule', () => {
    const b64 = (k: Uint8Array) => Buffer.from(k).toString('base64');
    assert.equal(codecKeysFromEnv({ GOVERNOR_CODEC_KEYS: `k2:${b64(k2)},k1:${b64(k1)}` })?.current, 'k2');
    assert.equal(codecKeysFromEnv({}), undefined);
    assert.throws(() => codecKeysFromEnv({ GOVERNOR_CODEC_KEYS: `k1:${b64(new Uint8Array(16))}` }), /keys\.k1: must be 32 bytes/);
    assert.throws(() => codecKeysFromEnv({ GOVERNOR_CODEC_KEYS: `k1:${b64(k1)}`, GOVERNOR_CODEC_KEY_ID: 'k9' }), /current: the current key must be one of the keys/);
  });

  it('keys from a file (a mounted secret), with the same checks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'governor-keys-'));
    try {
      const file = join(dir, 'keys');
      await writeFile(file, `k1:${Buffer.from(k1).toString('base64')}\n`);
      assert.equal(codecKeysFromEnv({ GOVERNOR_CODEC_KEYS_FILE: file })?.current, 'k1');
      assert.throws(() => codecKeysFromEnv({ GOVERNOR_CODEC_KEYS_FILE: join(dir, 'missing') }), /GOVERNOR_CODEC_KEYS_FILE: cannot read .*missing \(ENOENT\)/);
      await writeFile(file, '');
      assert.throws(() => codecKeysFromEnv({ GOVERNOR_CODEC_KEYS_FILE: file }), /is empty/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('an encrypted run on a real dev server, and the codec server', () => {
  let h: Harness;
  let server: CodecServer;
  const codec = new AesGcmPayloadCodec({ current: 'k2', keys: { k2, k1 } });
  const token = 'reviewers-only-token-0123456789';
  before(async () => {
    h = await startHarness({ codec });
    server = await startCodecServer({ codec, token, corsOrigins: ['http://127.0.0.1:8233'] });
  });
  after(async () => {
    await server?.close();
    await h?.close();
  });

  it('the raw history holds no ticket text, while the client reads the run as usual', async () => {
    const started = await h.client.startTriage(ticketEvent({ subject: 'Charged twice', body: SECRET }));
    const result = await h.client.triageResult(started.workflowId);
    assert.equal(result.outcome, 'escalated', 'the run worked through the codec');
    // Read the history with a client that has no codec: what the server stores.
    const connection = await Connection.connect({ address: h.server.address });
    try {
      const raw = new Client({ connection });
      const history = await raw.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: started.workflowId } });
      const bytes = Buffer.from(proto.temporal.api.history.v1.History.encode(history.history!).finish());
      assert.ok(history.history!.events!.length > 10);
      // The ticket's words, the prompt's output name, a tool's arguments. Ids, timestamps and search attributes (phase,
      // category: indexed, so never encrypted and never given personal data) stay readable.
      for (const needle of ['Zanzibar', 'Charged twice', 'classify_ticket', 'urgent_billing']) assert.ok(!bytes.includes(Buffer.from(needle)), `${needle} is in the stored history`);
    } finally {
      await connection.close();
    }
    assert.equal((await h.client.triageState(started.workflowId)).classification?.category, 'billing', 'the state query decodes through the codec');
  });

  it('a failure message is encrypted too', async () => {
    const started = await h.client.startTriage(ticketEvent(), { modelChain: [{ provider: 'nowhere', model: 'x' }], reviewDeadline: '1s' });
    await h.client.triageResult(started.workflowId);
    const connection = await Connection.connect({ address: h.server.address });
    try {
      const history = await new Client({ connection }).workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: started.workflowId } });
      const failed = history.history!.events!.find((e) => e.activityTaskFailedEventAttributes);
      assert.ok(failed, 'the model call failed (its provider is not registered)');
      const failure = failed.activityTaskFailedEventAttributes!.failure!;
      assert.equal(failure.message, 'Encoded failure', 'the message is in the encrypted payload, not in history');
      assert.ok(!Buffer.from(proto.temporal.api.failure.v1.Failure.encode(failure).finish()).includes(Buffer.from('nowhere')));
    } finally {
      await connection.close();
    }
  });

  it('the codec server decodes for a holder of the token, refuses anyone else, and answers the Web UI\'s preflight', async () => {
    const [sealed] = await codec.encode([defaultPayloadConverter.toPayload({ body: SECRET })!]);
    const json = { payloads: [{ metadata: Object.fromEntries(Object.entries(sealed!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(sealed!.data!).toString('base64') }] };
    const post = (headers: Record<string, string>) =>
      fetch(`${server.url}/decode`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(json) });

    const anonymous = await post({});
    assert.equal(anonymous.status, 401);
    assert.equal((await post({ authorization: 'Bearer wrong-token-wrong-token' })).status, 401);

    const ok = await post({ authorization: `Bearer ${token}`, origin: 'http://127.0.0.1:8233' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8233');
    const decoded = (await ok.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    assert.deepEqual(JSON.parse(Buffer.from(decoded.payloads[0]!.data, 'base64').toString()), { body: SECRET });

    const preflight = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:8233', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
    const stranger = await post({ authorization: `Bearer ${token}`, origin: 'http://evil.example' });
    assert.equal(stranger.headers.get('access-control-allow-origin'), null, 'no CORS grant for an unlisted origin');

    // A person signs in once with the token; the Web UI (TEMPORAL_CODEC_INCLUDE_CREDENTIALS) then sends the cookie.
    assert.match(await (await fetch(`${server.url}/login`)).text(), /<form method="post" action="\/login">/);
    const login = (t: string) => fetch(`${server.url}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: t }).toString() });
    const refused = await login('not-the-token-at-all');
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('set-cookie'), null);
    const signedIn = await login(token);
    assert.equal(signedIn.status, 200);
    const cookie = signedIn.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^governor_codec=[\w-]+; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/);
    assert.ok(!cookie.includes(token), 'the cookie is not the token');
    const byCookie = await post({ cookie: cookie.split(';')[0]!, origin: 'http://127.0.0.1:8233' });
    assert.equal(byCookie.status, 200);
    assert.equal(byCookie.headers.get('access-control-allow-credentials'), 'true');
    assert.equal((await post({ cookie: 'governor_codec=forged' })).status, 401);
  });
});
