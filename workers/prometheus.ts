/** Prometheus' HTTP API, the read side `governor slo` and `governor report` use. */

export class PrometheusError extends Error {}

export interface Sample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

export interface Series {
  readonly labels: Record<string, string>;
  readonly points: ReadonlyArray<readonly [timeSeconds: number, value: number]>;
}

async function api<T>(prometheusUrl: string, path: string, params: Record<string, string>): Promise<T> {
  const url = new URL(path, prometheusUrl);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    throw new PrometheusError(`cannot reach Prometheus at ${prometheusUrl} (${(err as Error).message})`);
  }
  const body = (await res.json().catch(() => null)) as { status?: string; error?: string; data?: { result?: T } } | null;
  if (!res.ok || body?.status !== 'success') throw new PrometheusError(`Prometheus refused the query (${res.status}): ${body?.error ?? 'no answer'}`);
  return (body.data?.result ?? []) as T;
}

/** An instant query: every sample, NaN and infinities left out. */
export async function queryVector(prometheusUrl: string, query: string): Promise<Sample[]> {
  const result = await api<Array<{ metric: Record<string, string>; value: [number, string] }>>(prometheusUrl, '/api/v1/query', { query });
  return result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) })).filter((s) => Number.isFinite(s.value));
}

/** The value of an instant query's single sample, or null when it has none. */
export async function queryScalar(prometheusUrl: string, query: string): Promise<number | null> {
  return (await queryVector(prometheusUrl, query))[0]?.value ?? null;
}

/** A range query from `start` to `end` (seconds) every `stepSeconds`. */
export async function queryRange(prometheusUrl: string, query: string, start: number, end: number, stepSeconds: number): Promise<Series[]> {
  const result = await api<Array<{ metric: Record<string, string>; values: Array<[number, string]> }>>(prometheusUrl, '/api/v1/query_range', {
    query,
    start: String(start),
    end: String(end),
    step: String(stepSeconds),
  });
  return result.map((r) => ({ labels: r.metric, points: r.values.map(([t, v]) => [t, Number(v)] as const).filter(([, v]) => Number.isFinite(v)) }));
}
