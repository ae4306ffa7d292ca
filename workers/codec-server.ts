import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { formatIssues, issuesFrom } from '../contracts/issues.js';

export interface CodecServerOptions {
  readonly codec: PayloadCodec;
  /** The workers' claim-check codec: `/decode` resolves stored payloads from the store, `/encode` stores large ones. */
  readonly claimCheck?: PayloadCodec;
  /** Bearer token every `/encode` and `/decode` request must carry; the Web UI sends it when configured to. */
  readonly token: string;
  /** Origins allowed to call from a browser (the Temporal Web UI's), e.g. `http://127.0.0.1:8233`. */
  readonly corsOrigins: readonly string[];
  /** Default 127.0.0.1 and a free port. */
  readonly host?: string;
  readonly port?: number;
  /** Largest request body accepted (default 4 MiB): history pages are decoded in batches well under it. */
  readonly maxBodyBytes?: number;
}

export interface CodecServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Temporal's JSON form of payloads, as the Web UI and `temporal` CLI send them: base64 metadata values and data. */
const JsonPayloads = z.strictObject({
  payloads: z.array(z.object({ metadata: z.record(z.string(), z.string()).optional(), data: z.string().optional() })).max(10_000),
});

const toPayload = (p: { metadata?: Record<string, string>; data?: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
  data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
});
const fromPayload = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

const COOKIE = 'governor_codec';

/** Equal without leaking where they differ. */
function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const LOGIN_PAGE = `<!doctype html><meta charset="utf-8"><title>Governor codec server</title>
<form method="post" action="/login"><p>Token for decrypting payloads in the Temporal Web UI:</p>
<input name="token" type="password" autocomplete="current-password" required> <button>Sign in</button></form>`;

/**
 * A codec server (Temporal's remote codec protocol): `POST /encode` and `POST /decode` with `{ payloads: [...] }`,
 * so that people the token admits read decrypted payloads in the Temporal Web UI (`--ui-codec-endpoint`) and the
 * `temporal` CLI (`--codec-endpoint`) while history stays encrypted. Every request needs the token: as a bearer
 * token (the CLI, or the UI passing its access token), or as the session cookie a person gets by signing in at
 * `/login` with it (the UI started with `TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true` sends it along). CORS admits only
 * the listed origins. Written on node:http: four routes, no framework needed.
 */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  if (options.token.length < 16) throw new Error('codec server: the token must be at least 16 characters');
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  // The cookie holds a MAC of the token, not the token: it admits to this server and shows nothing else.
  const session = createHmac('sha256', options.token).update('governor codec session').digest('base64url');
  const cookieOf = (req: IncomingMessage) =>
    (req.headers.cookie ?? '')
      .split(';')
      .map((c) => c.trim().split('='))
      .find(([k]) => k === COOKIE)?.[1] ?? '';
  const authorised = (req: IncomingMessage) => same(req.headers.authorization ?? '', `Bearer ${options.token}`) || same(cookieOf(req), session);
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const origin = req.headers.origin;
    if (origin && options.corsOrigins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('access-control-allow-methods', 'POST');
      res.setHeader('access-control-allow-headers', 'content-type, authorization, x-namespace');
      res.writeHead(204).end();
      return;
    }
    const route = req.url?.split('?')[0];
    if (route === '/login' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void res.end(LOGIN_PAGE);
    }
    if (route === '/login' && req.method === 'POST') {
      let form = '';
      req.on('data', (c: Buffer) => (form = (form + c.toString('utf8')).slice(0, 4096)));
      req.on('end', () => {
        if (!same(new URLSearchParams(form).get('token') ?? '', options.token)) return send(res, 401, { error: 'wrong token' });
        // SameSite=Strict: sent by the Web UI on the same host (another port is the same site), never cross-site.
        res.setHeader('set-cookie', `${COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200`);
        send(res, 200, { status: 'signed in: the Temporal Web UI on this host now decodes payloads for this browser for 12 hours' });
      });
      return;
    }
    if (req.method !== 'POST' || (route !== '/encode' && route !== '/decode')) return send(res, 404, { error: 'POST /encode or /decode (GET /login to sign in)' });
    if (!authorised(req)) return send(res, 401, { error: 'a valid bearer token or session is required (sign in at /login)' });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) {
        send(res, 413, { error: `request body over ${maxBody} bytes` });
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(res, 400, { error: 'the body is not JSON' });
      }
      const parsed = JsonPayloads.safeParse(body);
      if (!parsed.success) return send(res, 400, { error: formatIssues(issuesFrom(parsed.error)) });
      const payloads = parsed.data.payloads.map(toPayload);
      // The workers' order: encrypt, then claim-check; decoding runs it backwards.
      (route === '/encode'
        ? options.codec.encode(payloads).then((p) => options.claimCheck?.encode(p) ?? p)
        : (options.claimCheck?.decode(payloads) ?? Promise.resolve(payloads)).then((p) => options.codec.decode(p))
      ).then(
        (out) => send(res, 200, { payloads: out.map(fromPayload) }),
        (err: Error) => send(res, 400, { error: err.message }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
