import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { searchAttributeKeys, type AnySearchAttributeKey } from '../workflows/search-attributes.js';
import { provisionTemporalCli } from './temporal-cli.js';

export interface DevServerOptions {
  /** gRPC port; a free one when omitted. */
  readonly port?: number;
  /** Serve the Web UI (on `uiPort`, a free port when omitted). Default false. */
  readonly ui?: boolean;
  readonly uiPort?: number;
  /** The codec server the Web UI decodes payloads through (`--ui-codec-endpoint`). */
  readonly uiCodecEndpoint?: string;
  /** SQLite file that keeps history across restarts; in memory when omitted. */
  readonly dbFile?: string;
  readonly namespace?: string;
  /** How long to wait for the server to answer. Default 60 s. */
  readonly startTimeoutMs?: number;
  readonly log?: (line: string) => void;
  /** Search attributes to register beside Governor's own (a workflow descriptor's `searchAttributes`). */
  readonly searchAttributes?: readonly AnySearchAttributeKey[];
  /** How a port the options leave open is chosen. Default: one the kernel hands out on loopback (`freePort`). */
  readonly freePort?: () => Promise<number>;
}

export interface DevServer {
  /** host:port for clients and workers. */
  readonly address: string;
  readonly namespace: string;
  readonly uiUrl: string | null;
  readonly binary: string;
  /** The server's process id (for CPU and memory accounting). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** A free TCP port on loopback, found by binding port 0. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True when nothing listens on the port on loopback. */
export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Server settings the dev server starts with. Eager activity execution lets the server hand an activity that a
 * workflow task schedules straight back to the worker that completed the task, in the same response, when that
 * worker has a free slot: no trip through the task queue. Production clusters set it in their own dynamic config.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, string | number | boolean>> = {
  'system.enableActivityEagerExecution': true,
  // One partition per task queue: task-queue priority is exact within a partition, and a dev server has no load to
  // spread.
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
  // Task-queue priority and fairness (the matcher that honours them).
  'matching.useNewMatcher': true,
};

function searchAttributeType(type: string): string {
  // The CLI names types the way the server's admin API does.
  const names: Readonly<Record<string, string>> = { KEYWORD_LIST: 'KeywordList', DATETIME: 'Datetime', BOOL: 'Bool' };
  return names[type] ?? type.charAt(0) + type.slice(1).toLowerCase();
}

/** What the CLI prints when a port it was given is taken (Go's `bind: address already in use`). */
const PORT_TAKEN = /address already in use|failed listening/i;

/** Starts of the CLI when a port found free is taken before the server binds it (another process got there first). */
const PORT_ATTEMPTS = 3;

/** How long one readiness probe may take: a port held by something that never answers must not stall the loop. */
const PROBE_DEADLINE_MS = 2000;

class PortTaken extends Error {}

/**
 * Starts `temporal server start-dev` on loopback with our custom search attributes registered, and waits until it
 * answers. `stop()` ends it. A port found free can be taken by another process before the server binds it; the server
 * then exits saying so, and is started again on ports found afresh (those the options fix stay), at most
 * `PORT_ATTEMPTS` times.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const log = options.log ?? (() => undefined);
  const cli = await provisionTemporalCli({ log });
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(cli.path, options, log);
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt >= PORT_ATTEMPTS) throw err;
      log(`governor: a port of the dev server was taken before it bound it; starting again (${attempt}/${PORT_ATTEMPTS})`);
    }
  }
}

async function launch(binary: string, options: DevServerOptions, log: (line: string) => void): Promise<DevServer> {
  const pickPort = options.freePort ?? freePort;
  const port = options.port ?? (await pickPort());
  const namespace = options.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', namespace, '--log-level', 'warn'];
  let uiUrl: string | null = null;
  if (options.ui) {
    const uiPort = options.uiPort ?? (await pickPort());
    args.push('--ui-port', String(uiPort));
    if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
    uiUrl = `http://127.0.0.1:${uiPort}`;
  } else {
    args.push('--headless');
  }
  args.push('--http-port', String(await pickPort()), '--metrics-port', String(await pickPort()));
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  for (const [key, value] of Object.entries(DEV_SERVER_DYNAMIC_CONFIG)) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  for (const key of searchAttributeKeys(options.searchAttributes)) args.push('--search-attribute', `${key.name}=${searchAttributeType(key.type)}`);

  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const capture = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });

  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exitCode !== undefined) {
      const message = `temporal server start-dev exited with ${exitCode}:\n${output}`;
      throw PORT_TAKEN.test(output) ? new PortTaken(message) : new Error(message);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.withDeadline(Date.now() + PROBE_DEADLINE_MS, () => connection.workflowService.describeNamespace({ namespace }));
        break;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`Temporal dev server did not answer on ${address} within the start timeout: ${(err as Error).message}\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  log(`governor: Temporal dev server on ${address}${uiUrl ? `, Web UI ${uiUrl}` : ''} (${binary})`);

  let stopping: Promise<void> | undefined;
  return {
    address,
    namespace,
    uiUrl,
    binary,
    pid: child.pid,
    stop() {
      stopping ??= (async () => {
        if (exitCode !== undefined) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
