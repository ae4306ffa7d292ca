import { createHash } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { Store } from './store.js';

export const CLAIM_CHECK_ENCODING = 'binary/claim-check';
const HASH_METADATA = 'claim-check-sha256';
const SIZE_METADATA = 'claim-check-bytes';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface ClaimCheckOptions {
  /** Where payloads are kept: Governor's store (PGlite or PostgreSQL), table `claim_checks`. */
  readonly store: Store;
  /** Payloads larger than this (serialised) are stored once and replaced by their hash in history. Default 4 KiB. */
  readonly thresholdBytes?: number;
  /** The largest payload stored (default 16 MiB): a larger one is an error, not a silent truncation. */
  readonly maxBytes?: number;
}

/**
 * The claim-check pattern as a payload codec: a payload above `thresholdBytes` — a long prompt, a model's reply, a
 * tool's result, a document, a state snapshot — is written once to the store under its SHA-256 and replaced in
 * history by a reference of constant size, so a long-running run's history grows by a constant per step however
 * large its payloads are. The same content is stored once (content addressing); decoding checks the hash, so a
 * stored payload altered afterwards is an error, never a silent change. Put it after an encrypting codec
 * (`payloadCodecs: [aes, claimCheck]`) and the store holds ciphertext.
 *
 * Written by hand: Temporal's SDK has no claim-check codec (its samples keep payloads in S3 or Redis); this one
 * keeps them in the store the worker already has, transactionally with nothing else and never deleted by it.
 */
export class ClaimCheckCodec implements PayloadCodec {
  readonly thresholdBytes: number;
  readonly maxBytes: number;

  constructor(private readonly options: ClaimCheckOptions) {
    this.thresholdBytes = options.thresholdBytes ?? 4 * 1024;
    this.maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    if (!Number.isInteger(this.thresholdBytes) || this.thresholdBytes < 256) throw new Error('claim check: thresholdBytes must be a whole number of at least 256');
    if (!Number.isInteger(this.maxBytes) || this.maxBytes <= this.thresholdBytes) throw new Error('claim check: maxBytes must be a whole number above thresholdBytes');
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const out: Payload[] = [];
    const rows: Array<{ hash: string; body: Uint8Array }> = [];
    for (const payload of payloads) {
      const body = proto.temporal.api.common.v1.Payload.encode(payload).finish();
      if (body.length <= this.thresholdBytes) {
        out.push(payload);
        continue;
      }
      if (body.length > this.maxBytes) throw new Error(`claim check: a payload of ${body.length} bytes is above the ${this.maxBytes}-byte limit`);
      const hash = createHash('sha256').update(body).digest('hex');
      rows.push({ hash, body });
      out.push({ metadata: { encoding: encoder.encode(CLAIM_CHECK_ENCODING), [HASH_METADATA]: encoder.encode(hash), [SIZE_METADATA]: encoder.encode(String(body.length)) }, data: new Uint8Array() });
    }
    for (const row of rows) {
      // Content-addressed: a payload seen before (a retry, the same document twice) is already there.
      await this.options.store.db.query('insert into claim_checks (hash, body, bytes) values ($1, $2, $3) on conflict (hash) do nothing', [row.hash, Buffer.from(row.body), row.body.length]);
    }
    return out;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    const wanted = payloads.filter(isClaimCheck).map(hashOf);
    if (wanted.length === 0) return payloads;
    const found = await this.options.store.db.query<{ hash: string; body: Uint8Array }>('select hash, body from claim_checks where hash = any($1)', [[...new Set(wanted)]]);
    const bodies = new Map(found.rows.map((r) => [r.hash, r.body]));
    return payloads.map((payload) => {
      if (!isClaimCheck(payload)) return payload;
      const hash = hashOf(payload);
      const body = bodies.get(hash);
      if (!body) throw new Error(`claim check: payload ${hash} is not in the store (${this.options.store.db.describe}); is this the deployment's store?`);
      if (createHash('sha256').update(body).digest('hex') !== hash) throw new Error(`claim check: stored payload ${hash} does not match its hash: it was altered`);
      return proto.temporal.api.common.v1.Payload.decode(body);
    });
  }
}

function isClaimCheck(payload: Payload): boolean {
  return decoder.decode(payload.metadata?.encoding ?? new Uint8Array()) === CLAIM_CHECK_ENCODING;
}

function hashOf(payload: Payload): string {
  return decoder.decode(payload.metadata?.[HASH_METADATA] ?? new Uint8Array());
}
