/**
 * `governor/testing`: what a test of a governed workflow needs — the model double (a loopback server that speaks
 * the Anthropic and OpenAI wire APIs, so the real SDKs run, with scripted replies and injected faults), the
 * Temporal dev server, provisioned from the official Temporal CLI, a throwaway PostgreSQL server and a real SMTP
 * server with a mailbox.
 */
export * from './model-double.js';
export { freePort, portIsFree, startDevServer, type DevServer, type DevServerOptions } from '../workers/dev-server.js';
export { provisionTemporalCli, TEMPORAL_CLI_VERSION } from '../workers/temporal-cli.js';
export { startPostgres, type PostgresServer } from './postgres.js';
export { Mailbox, parseHeaders, startSmtpServer, type Received, type SmtpServer } from './smtp.js';
