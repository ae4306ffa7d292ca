import { readFileSync } from 'node:fs';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DefaultFailureConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { z } from 'zod';
import { formatIssues, issuesFrom } from '../contracts/issues.js';

/** Metadata of an encrypted payload: the encoding, and which key encrypted it (so rotated keys still decrypt). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const KeyId = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a key id is 1-64 letters, digits, _ . or -');
export const CodecKeys = z
  .strictObject({
    /** The key new payloads are encrypted with. */
    current: KeyId,
    /** Every key that may still be needed to decrypt, by id: 32 bytes each (AES-256). */
    keys: z.record(KeyId, z.instanceof(Uint8Array).refine((k) => k.length === 32, 'must be 32 bytes (AES-256)')),
  })
  .refine((k) => k.keys[k.current] !== undefined, { message: 'the current key must be one of the keys', path: ['current'] });
export type CodecKeys = z.infer<typeof CodecKeys>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * AES-256-GCM payload encryption for everything Governor and its workflows put in Temporal history: trigger events
 * (ticket text), prompts, model output, tool arguments and results, and — with `encryptedFailureConverter` — failure
 * messages. Each payload is serialised whole (metadata and data, as protobuf) and encrypted with a fresh 96-bit IV;
 * the authentication tag makes any change to stored history a decryption error rather than silent corruption.
 * Written on Node's crypto (no library does Temporal's payload framing); the cipher itself is OpenSSL's.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys: CodecKeys;

  constructor(keys: CodecKeys) {
    const parsed = CodecKeys.safeParse(keys);
    if (!parsed.success) throw new Error(`payload encryption keys: ${formatIssues(issuesFrom(parsed.error))}`);
    this.keys = parsed.data;
  }

  /** The id of the key new payloads are sealed with. */
  get currentKeyId(): string {
    return this.keys.current;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keys.current;
    const key = this.keys.keys[keyId]!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = proto.temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: encoder.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: encoder.encode(keyId) }, data: sealed };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (decoder.decode(payload.metadata?.encoding ?? new Uint8Array()) !== ENCRYPTED_ENCODING) return payload;
      const keyId = decoder.decode(payload.metadata?.[KEY_ID_METADATA] ?? new Uint8Array());
      const key = this.keys.keys[keyId];
      if (!key) throw new Error(`payload encrypted with key ${JSON.stringify(keyId)}, which this codec does not hold (known: ${Object.keys(this.keys.keys).join(', ')})`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) throw new Error('encrypted payload is too short to be one');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new Error(`encrypted payload (key ${keyId}) failed authentication: it was altered, or the key is wrong`);
      }
      return proto.temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/**
 * Keys from the environment: `GOVERNOR_CODEC_KEYS` lists `id:base64key` pairs (comma-separated; keep old keys listed
 * after a rotation so old history still decrypts), or `GOVERNOR_CODEC_KEYS_FILE` names a file holding that list;
 * `GOVERNOR_CODEC_KEY_ID` names the current one (default: the first listed). Undefined when no keys are set:
 * payloads are then stored as they are.
 */
export function codecKeysFromEnv(env: NodeJS.ProcessEnv = process.env): CodecKeys | undefined {
  let listed = env.GOVERNOR_CODEC_KEYS?.trim();
  // Or from a file (a mounted secret, the demo's key file): GOVERNOR_CODEC_KEYS_FILE holds the same id:base64 list.
  if (!listed && env.GOVERNOR_CODEC_KEYS_FILE) {
    try {
      listed = readFileSync(env.GOVERNOR_CODEC_KEYS_FILE, 'utf8').trim();
    } catch (err) {
      throw new Error(`GOVERNOR_CODEC_KEYS_FILE: cannot read ${env.GOVERNOR_CODEC_KEYS_FILE} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (!listed) throw new Error(`GOVERNOR_CODEC_KEYS_FILE: ${env.GOVERNOR_CODEC_KEYS_FILE} is empty`);
  }
  if (!listed) return undefined;
  const keys: Record<string, Uint8Array> = {};
  for (const pair of listed.split(',')) {
    const [id, b64] = pair.trim().split(':');
    if (!id || !b64) throw new Error(`GOVERNOR_CODEC_KEYS: ${JSON.stringify(pair)} is not id:base64key`);
    keys[id] = new Uint8Array(Buffer.from(b64, 'base64'));
  }
  const current = env.GOVERNOR_CODEC_KEY_ID || Object.keys(keys)[0]!;
  const parsed = CodecKeys.safeParse({ current, keys });
  if (!parsed.success) throw new Error(`GOVERNOR_CODEC_KEYS / GOVERNOR_CODEC_KEY_ID: ${formatIssues(issuesFrom(parsed.error))}`);
  return parsed.data;
}

/**
 * The client's data converter for an encrypting codec: payloads through the codec, and failure messages and stack
 * traces moved into an (encrypted) payload instead of plain history fields. A worker gets the same through
 * `createGovernorWorker({ codec })`.
 */
export function encryptedDataConverter(codec: PayloadCodec | undefined, claimCheck?: PayloadCodec) {
  const payloadCodecs = [codec, claimCheck].filter((c): c is PayloadCodec => c !== undefined);
  // Failure messages and stacks go into encoded payloads only when something encrypts them.
  return { payloadCodecs, ...(codec ? { failureConverter: new DefaultFailureConverter({ encodeCommonAttributes: true }) } : {}) };
}
