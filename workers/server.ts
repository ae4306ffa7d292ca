/**
 * `npm run server`: the Temporal dev server with the Web UI and a SQLite file, for using Governor locally beyond
 * the demo. Builds the Temporal CLI on first use.
 *
 *   --port (default 7233, or a free port when taken), --ui-port (default 8233), --db-file (default .governor/temporal.db)
 *   --search-attribute Name=Type (repeatable): your workflows' own search attributes, beside Governor's
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { AnySearchAttributeKey } from '../workflows/search-attributes.js';
import { freePort, portIsFree, startDevServer } from './dev-server.js';

export async function preferredPort(port: number): Promise<number> {
  return (await portIsFree(port)) ? port : freePort();
}

const TYPES: Readonly<Record<string, SearchAttributeType>> = {
  keyword: SearchAttributeType.KEYWORD,
  text: SearchAttributeType.TEXT,
  int: SearchAttributeType.INT,
  double: SearchAttributeType.DOUBLE,
  bool: SearchAttributeType.BOOL,
  datetime: SearchAttributeType.DATETIME,
  keywordlist: SearchAttributeType.KEYWORD_LIST,
};

/** `Name=Keyword` as a search attribute key; a bad one is an error naming the accepted types. */
function searchAttribute(spec: string): AnySearchAttributeKey {
  const [name, type] = spec.split('=');
  const t = TYPES[(type ?? '').toLowerCase()];
  if (!name || !/^[A-Za-z][A-Za-z0-9_]*$/.test(name) || t === undefined) {
    throw new Error(`--search-attribute ${spec}: must be Name=Type, Type one of ${Object.keys(TYPES).join(', ')}`);
  }
  return defineSearchAttributeKey(name, t);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'ui-port': { type: 'string' },
      'db-file': { type: 'string' },
      'search-attribute': { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run server -- [--port 7233] [--ui-port 8233] [--db-file .governor/temporal.db] [--search-attribute Name=Keyword ...]\n');
    return;
  }
  const dbFile = resolve(values['db-file'] ?? '.governor/temporal.db');
  await mkdir(dirname(dbFile), { recursive: true });
  const server = await startDevServer({
    port: await preferredPort(Number(values.port ?? 7233)),
    ui: true,
    uiPort: await preferredPort(Number(values['ui-port'] ?? 8233)),
    dbFile,
    searchAttributes: (values['search-attribute'] ?? []).map(searchAttribute),
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
