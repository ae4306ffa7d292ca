import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { formatIssues, issuesFrom } from '../contracts/issues.js';

export interface CodecServerOptions {
  readonly codec: PayloadCodec;
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

/**
 * A codec server (Temporal's remote codec protocol): `POST /encode` and `POST /decode` with `{ payloads: [...] }`,
 * so that people the token admits read decrypted payloads in the Temporal Web UI (`--ui-codec-endpoint`) and the
 * `temporal` CLI (`--codec-endpoint`) while history stays encrypted. Every request needs the bearer token; CORS
 * admits only the listed origins. Written on node:http: two routes, no framework needed.
 */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  if (options.token.length < 16) throw new Error('codec server: the token must be at least 16 characters');
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const expected = Buffer.from(`Bearer ${options.token}`);
  const authorised = (req: IncomingMessage) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
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
    if (req.method !== 'POST' || (route !== '/encode' && route !== '/decode')) return send(res, 404, { error: 'POST /encode or /decode' });
    if (!authorised(req)) return send(res, 401, { error: 'a valid bearer token is required' });
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
      (route === '/encode' ? options.codec.encode(payloads) : options.codec.decode(payloads)).then(
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
