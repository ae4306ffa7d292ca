import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { SqlQueryable } from '../contracts/tools.js';

export type { SqlQueryable };

/**
 * The little SQL surface the store needs, over two drivers that speak the same dialect: PGlite (PostgreSQL compiled
 * to WebAssembly, in-process, the default) and node-postgres against a PostgreSQL server (`DATABASE_URL`). Written
 * by hand because it is three methods; an ORM or query builder would add a second dialect to learn.
 */
/** Inside a transaction: queries, and several statements at once (schema, migrations; no parameters). */
export interface SqlTransaction extends SqlQueryable {
  exec(text: string): Promise<void>;
}

export interface Sql extends SqlQueryable {
  /** Runs several statements (schema, migrations); no parameters. */
  exec(text: string): Promise<void>;
  /** Commits when `fn` resolves, rolls back when it throws. */
  transaction<R>(fn: (tx: SqlTransaction) => Promise<R>): Promise<R>;
  close(): Promise<void>;
  /** `pglite:<dir>`, `pglite:memory` or the server URL with its password removed: for logs. */
  readonly describe: string;
}

export async function openPglite(dataDir?: string): Promise<Sql> {
  // PGlite creates its own directory but not the ones above it (`.governor/pgdata` on a fresh checkout or volume).
  if (dataDir) await mkdir(dirname(resolve(dataDir)), { recursive: true });
  const db = await PGlite.create(dataDir ? { dataDir } : {});
  return {
    describe: `pglite:${dataDir ?? 'memory'}`,
    query: async <T>(text: string, params?: unknown[]) => db.query<T>(text, params),
    exec: async (text) => {
      await db.exec(text);
    },
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({
          query: async <T>(text: string, params?: unknown[]) => tx.query<T>(text, params),
          exec: async (text) => {
            await tx.exec(text);
          },
        }),
      ),
    close: () => db.close(),
  };
}

export async function openPostgres(url: string): Promise<Sql> {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  // An idle connection dropped by the server (a restart, a failover) is reported here; without a listener it would
  // crash the worker. The pool replaces it; in-flight work fails and is retried by its activity.
  pool.on('error', (err) => process.stderr.write(`governor store: idle PostgreSQL connection lost (${err.message})\n`));
  // Fail at start with the server's own message, not at the first tool call.
  const probe = await pool.connect();
  probe.release();
  const redacted = new URL(url);
  if (redacted.password) redacted.password = '***';
  const query = async <T>(client: pg.Pool | pg.PoolClient, text: string, params?: unknown[]) => {
    const result = await client.query(text, params);
    return { rows: result.rows as T[] };
  };
  return {
    describe: redacted.toString(),
    query: (text, params) => query(pool, text, params),
    exec: async (text) => {
      await pool.query(text);
    },
    async transaction(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      // A checked-out connection that the server drops between statements reports it as an 'error' event, which
      // would crash the worker without a listener: note it, so the connection is discarded on release, and let the
      // next statement fail (and its activity retry).
      const dropped = (err: Error) => (broken = err);
      client.on('error', dropped);
      try {
        await client.query('begin');
        const result = await fn({
          query: (text, params) => query(client, text, params),
          exec: async (text) => {
            await client.query(text);
          },
        });
        await client.query('commit');
        return result;
      } catch (err) {
        // A connection that cannot even roll back is discarded rather than handed to the next transaction.
        await client.query('rollback').catch((rollbackError: Error) => (broken = rollbackError));
        throw err;
      } finally {
        client.off('error', dropped);
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

/** Node's socket errors: the connection to the database server could not be made or was lost. */
const SOCKET_ERRORS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * True when an error says the database itself is unreachable (not that a statement was wrong): a socket error, a
 * PostgreSQL connection exception (SQLSTATE class 08) or a server shutting down or starting (57P01-57P03). node-postgres
 * reports a connection dropped mid-query only in words, with no code, so that one message is matched as well.
 */
export function isConnectionLoss(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (SOCKET_ERRORS.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03')) return true;
  if (err instanceof AggregateError) return err.errors.some(isConnectionLoss);
  return /^Connection terminated( unexpectedly| due to connection timeout)?$/.test(err.message);
}
