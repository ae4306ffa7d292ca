/**
 * A real SMTP server to point a worker's outbox relay at in tests (`GOVERNOR_SMTP_URL`): the `smtp-server` package
 * on 127.0.0.1, no auth, no STARTTLS. Its mailbox keeps one message per Message-ID, as real mail stores do, and counts
 * every DATA it accepted (raw deliveries), so a check can tell "sent twice on the wire" from "two messages in the
 * mailbox".
 */
import { SMTPServer } from 'smtp-server';

/** One message the server accepted. */
export interface Received {
  readonly messageId: string;
  readonly idempotencyKey: string | null;
  readonly headers: ReadonlyMap<string, string>;
  readonly to: readonly string[];
  readonly raw: string;
}

/** What the server received: every accepted DATA (`raw`), and the store, one message per Message-ID. */
export class Mailbox {
  readonly raw: Received[] = [];
  readonly byMessageId = new Map<string, Received>();
  accept(message: Received): void {
    this.raw.push(message);
    if (!this.byMessageId.has(message.messageId)) this.byMessageId.set(message.messageId, message);
  }
}

/** A message's headers by lower-cased name, folded lines joined. */
export function parseHeaders(raw: string): Map<string, string> {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

export interface SmtpServer {
  readonly port: number;
  /** `smtp://127.0.0.1:<port>` */
  readonly url: string;
  readonly mailbox: Mailbox;
  close(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1, no auth, no STARTTLS. `onAccepted` runs right after the server answered 250 to
 * the message's DATA: the message is in the mailbox and the client has been told so.
 */
export async function startSmtpServer(options: { port?: number; mailbox?: Mailbox; onAccepted?: (m: Received) => void } = {}): Promise<SmtpServer> {
  const mailbox = options.mailbox ?? new Mailbox();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    closeTimeout: 200,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err: Error) => callback(err));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const headers = parseHeaders(raw);
        const messageId = headers.get('message-id');
        if (!messageId) return callback(new Error('a message without a Message-ID'));
        const message: Received = {
          messageId,
          idempotencyKey: headers.get('idempotency-key') ?? null,
          headers,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
        };
        mailbox.accept(message);
        callback(); // 250: accepted
        options.onAccepted?.(message);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    url: `smtp://127.0.0.1:${address.port}`,
    mailbox,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
