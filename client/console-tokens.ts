import { errors, jwtVerify, SignJWT } from 'jose';
import ms from 'ms';

type StringValue = Parameters<typeof ms>[0];
import { z } from 'zod';
import { formatIssues, issuesFrom } from '../contracts/issues.js';

/**
 * Who may do what in the reviewer console. A reviewer decides reviews and resolves escalated tasks; an approver
 * decides held tool actions; an admin may do both and reads the audit log. The run itself still has the last word:
 * its gate refuses anyone it does not list for that decision, whatever their role.
 */
export const ConsoleRole = z.enum(['reviewer', 'approver', 'admin']);
export type ConsoleRole = z.infer<typeof ConsoleRole>;

/** The person a console session or token speaks for. */
export interface ConsoleIdentity {
  readonly reviewerId: string;
  readonly roles: readonly ConsoleRole[];
  /** Seconds since the epoch when the sign-in ends. */
  readonly expiresAt: number;
}

const MAX_TTL_MS = ms('30d');

const TokenRequest = z.strictObject({
  reviewerId: z.string().trim().min(1, 'is required').max(200).regex(/^[\w.@:-]+$/, 'letters, digits and . _ @ : - only'),
  roles: z.array(ConsoleRole).min(1, 'name at least one role (reviewer, approver, admin)'),
  ttl: z
    .string()
    .default('8h')
    .refine((v) => {
      const n = ms(v as StringValue);
      return typeof n === 'number' && n > 0 && n <= MAX_TTL_MS;
    }, 'a duration between 1s and 30d (8h, 7d)'),
});
export type ConsoleTokenRequest = z.input<typeof TokenRequest>;

/** The console's signing secret: at least 32 characters (256 bits of an HMAC key). */
export function consoleSecret(secret: string | undefined, name = 'GOVERNOR_CONSOLE_SECRET'): Uint8Array {
  if (!secret || secret.length < 32) throw new ConsoleAuthError(`${name}: must be set to at least 32 characters (openssl rand -hex 32)`);
  return new TextEncoder().encode(secret);
}

export class ConsoleAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConsoleAuthError';
  }
}

const ISSUER = 'governor';
const AUDIENCE = 'governor-console';

/**
 * A sign-in token for one person: a JWT (HS256) naming the reviewer and their roles, valid for `ttl`. Issued by
 * `governor console token`; pasted once at the console's sign-in page, which trades it for a session cookie.
 */
export async function issueConsoleToken(secret: string | undefined, request: ConsoleTokenRequest): Promise<{ token: string; identity: ConsoleIdentity }> {
  const parsed = TokenRequest.safeParse(request);
  if (!parsed.success) throw new ConsoleAuthError(`invalid token request: ${formatIssues(issuesFrom(parsed.error))}`);
  const { reviewerId, roles, ttl } = parsed.data;
  const expiresAt = Math.floor((Date.now() + ms(ttl as StringValue)) / 1000);
  const identity: ConsoleIdentity = { reviewerId, roles: [...new Set(roles)], expiresAt };
  const token = await signConsoleToken(secret, identity);
  return { token, identity };
}

/** Signs an identity (a sign-in token, or a console session under its own id `jti`). */
export async function signConsoleToken(secret: string | undefined, identity: ConsoleIdentity, jti?: string): Promise<string> {
  const jwt = new SignJWT({ roles: [...identity.roles] }).setProtectedHeader({ alg: 'HS256' }).setSubject(identity.reviewerId).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime(identity.expiresAt);
  return (jti ? jwt.setJti(jti) : jwt).sign(consoleSecret(secret));
}

/** The identity a token speaks for; a forged, expired or malformed one is a `ConsoleAuthError` saying which. */
export async function verifyConsoleToken(secret: string | undefined, token: string): Promise<ConsoleIdentity> {
  try {
    const { payload } = await jwtVerify(token.trim(), consoleSecret(secret), { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
    const roles = z.array(ConsoleRole).min(1).safeParse(payload.roles);
    if (!payload.sub || !roles.success || payload.exp === undefined) throw new ConsoleAuthError('the token names no reviewer or no role');
    return { reviewerId: payload.sub, roles: roles.data, expiresAt: payload.exp };
  } catch (err) {
    if (err instanceof ConsoleAuthError) throw err;
    if (err instanceof errors.JWTExpired) throw new ConsoleAuthError('the token has expired: ask for a new one');
    if (err instanceof errors.JOSEError) throw new ConsoleAuthError('the token is not valid for this console');
    throw err;
  }
}
