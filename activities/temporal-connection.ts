import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/client';

/** Where and how to reach Temporal: what both a client `Connection` and a worker `NativeConnection` take. */
export interface TemporalConnectionConfig {
  readonly address: string;
  readonly namespace: string;
  readonly tls?: TLSConfig | boolean;
  readonly apiKey?: string;
  readonly metadata?: Record<string, string>;
}

export interface TemporalConnectionOptions {
  /** Wins over the profile and the environment. */
  readonly address?: string;
  readonly namespace?: string;
  /** The profile of Temporal's config file (`TEMPORAL_CONFIG_FILE`, default `~/.config/temporalio/temporal.toml`); default `TEMPORAL_PROFILE` or `default`. */
  readonly profile?: string;
  /** The environment to read (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Temporal's own environment configuration, read by Temporal's own loader (`@temporalio/envconfig`): a profile from
 * the config file, overridden by `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`
 * (server CA, client certificate and key for mTLS, server name) and `TEMPORAL_GRPC_META_*`. The same settings the
 * `temporal` CLI uses, so one profile serves both. Without any: the local dev server, `127.0.0.1:7233`, `default`.
 */
export function temporalConnectionConfig(options: TemporalConnectionOptions = {}): TemporalConnectionConfig {
  const env = options.env ?? process.env;
  const loaded = loadClientConnectConfig({
    profile: options.profile ?? (env.TEMPORAL_PROFILE || undefined),
    overrideEnvVars: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string')),
  });
  const c = loaded.connectionOptions;
  return {
    address: options.address ?? c.address ?? '127.0.0.1:7233',
    namespace: options.namespace ?? loaded.namespace ?? 'default',
    ...(c.tls !== undefined && c.tls !== null ? { tls: c.tls } : {}),
    ...(c.apiKey ? { apiKey: c.apiKey as string } : {}),
    ...(c.metadata ? { metadata: c.metadata as Record<string, string> } : {}),
  };
}
