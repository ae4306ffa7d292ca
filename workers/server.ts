/**
 * `npm run server`: the Temporal dev server with the Web UI and a SQLite file, for using Governor locally beyond
 * the demo. Builds the Temporal CLI on first use.
 *
 *   --port (default 7233, or a free port when taken), --ui-port (default 8233), --db-file (default .governor/temporal.db)
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, portIsFree, startDevServer } from './dev-server.js';

export async function preferredPort(port: number): Promise<number> {
  return (await portIsFree(port)) ? port : freePort();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, 'ui-port': { type: 'string' }, 'db-file': { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write('usage: npm run server -- [--port 7233] [--ui-port 8233] [--db-file .governor/temporal.db]\n');
    return;
  }
  const dbFile = resolve(values['db-file'] ?? '.governor/temporal.db');
  await mkdir(dirname(dbFile), { recursive: true });
  const server = await startDevServer({
    port: await preferredPort(Number(values.port ?? 7233)),
    ui: true,
    uiPort: await preferredPort(Number(values['ui-port'] ?? 8233)),
    dbFile,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`Temporal dev server: ${server.address} (export TEMPORAL_ADDRESS=${server.address})\nWeb UI: ${server.uiUrl}\nhistory: ${dbFile}\nCtrl+C stops it.\n`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await server.stop();
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
