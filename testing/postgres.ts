import { execFile } from 'node:child_process';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../workers/dev-server.js';

const run = promisify(execFile);

export interface PostgresServer {
  /** `postgres://governor@127.0.0.1:<port>/postgres` */
  readonly url: string;
  /** The cluster's data directory (`postmaster.pid` names the server's process while it runs). */
  readonly dataDir: string;
  /** Stops the server as an operator's restart would (fast shutdown: open connections are cut); data is kept. */
  pause(): Promise<void>;
  /** Starts it again on the same port and data. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** The server binaries: `GOVERNOR_PG_BIN`, else Debian's newest `/usr/lib/postgresql/<v>/bin`. */
async function binDir(): Promise<string> {
  if (process.env.GOVERNOR_PG_BIN) return process.env.GOVERNOR_PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? (await readdir(root)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => join(root, v, 'bin')).find((d) => existsSync(join(d, 'initdb')));
  if (!found) throw new Error('PostgreSQL server binaries not found: install Debian\'s postgresql package (.ci/run does) or set GOVERNOR_PG_BIN');
  return found;
}

/**
 * A real, throwaway PostgreSQL server for tests and benchmarks: a fresh cluster in a temp directory, on a free loopback port, trust
 * auth for the `governor` role, fsync off (test data). PostgreSQL refuses to run as root, so under root it runs as
 * the `postgres` system user.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = await binDir();
  const dir = await mkdtemp(join(tmpdir(), 'governor-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const as = (cmd: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args));
  const data = join(dir, 'data');
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'governor', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const start = () => as('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', 'start', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`]);
  await start();
  return {
    url: `postgres://governor@127.0.0.1:${port}/postgres`,
    dataDir: data,
    async pause() {
      await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
    async resume() {
      await start();
    },
    async stop() {
      await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
