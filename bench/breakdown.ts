/**
 * `npm run bench:breakdown`: where the time of one triage run goes. Runs N triage runs with the model double at a
 * fixed latency, then reads each run's history and reports the median time between consecutive history events
 * (and the client's start and result calls), so the overhead over a direct model call can be attributed to
 * workflow tasks, activity dispatch and the activities themselves.
 *
 * Runs are spaced by `--pause` ms (default 250), as the benchmark's interleaved direct calls space them: run back to
 * back on 2 shared cores, the server is still busy closing the previous run and every dispatch gains ~40 ms.
 *
 *   npm run bench:breakdown -- [--runs 20] [--latency 200] [--pause 250]
 */
import { parseArgs } from 'node:util';
import proto from '@temporalio/proto';

const { temporal } = proto;
import { startHarness, ticketEvent } from '../examples/support/harness.js';
import { triageResponder } from '../examples/support/double/triage-responder.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, latency: { type: 'string', default: '200' }, pause: { type: 'string', default: '250' } } });
const runs = Number(values.runs);
const latencyMs = Number(values.latency);
const pause = Number(values.pause);
const TICKET = { subject: 'Auto top up', body: 'How do I use auto top up?' };

/** The few fields of a history event the breakdown reads, with the event type by name and the time in ms. */
interface JsonEvent {
  eventId: string;
  eventTime: number;
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  activityTaskStartedEventAttributes?: { scheduledEventId?: string };
  activityTaskCompletedEventAttributes?: { scheduledEventId?: string };
  markerRecordedEventAttributes?: { markerName?: string };
}

function asJsonEvent(e: proto.temporal.api.history.v1.IHistoryEvent): JsonEvent {
  const id = (v: unknown) => (v === null || v === undefined ? undefined : String(v));
  return {
    eventId: String(e.eventId),
    // Milliseconds since the epoch, keeping the sub-millisecond part.
    eventTime: Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6,
    eventType: temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? 'EVENT_TYPE_UNSPECIFIED',
    activityTaskScheduledEventAttributes: e.activityTaskScheduledEventAttributes
      ? { activityType: { name: e.activityTaskScheduledEventAttributes.activityType?.name ?? undefined } }
      : undefined,
    activityTaskStartedEventAttributes: e.activityTaskStartedEventAttributes ? { scheduledEventId: id(e.activityTaskStartedEventAttributes.scheduledEventId) } : undefined,
    activityTaskCompletedEventAttributes: e.activityTaskCompletedEventAttributes ? { scheduledEventId: id(e.activityTaskCompletedEventAttributes.scheduledEventId) } : undefined,
    markerRecordedEventAttributes: e.markerRecordedEventAttributes ? { markerName: e.markerRecordedEventAttributes.markerName ?? undefined } : undefined,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** A short label for an event: its type, and the activity type for activity events. */
function label(e: JsonEvent, activityNames: Map<string, string>): string {
  const type = e.eventType.replace('EVENT_TYPE_', '');
  const scheduled = e.activityTaskScheduledEventAttributes;
  if (scheduled) {
    activityNames.set(String(e.eventId), scheduled.activityType?.name ?? '?');
    return `${type}(${scheduled.activityType?.name})`;
  }
  const ref = e.activityTaskStartedEventAttributes?.scheduledEventId ?? e.activityTaskCompletedEventAttributes?.scheduledEventId;
  if (ref !== undefined && ref !== null) return `${type}(${activityNames.get(String(ref))})`;
  if (e.markerRecordedEventAttributes) return `${type}(${e.markerRecordedEventAttributes.markerName})`;
  return type;
}

const h = await startHarness({ modelTimeoutMs: 30_000 });
h.double.setFallback((req) => {
  const reply = triageResponder(req);
  return reply && reply.kind === 'json' ? { ...reply, delayMs: latencyMs } : reply;
});

// Per step label (position-qualified, so repeated labels stay apart): samples of the gap to the previous event.
const gaps = new Map<string, number[]>();
const add = (key: string, v: number) => gaps.set(key, [...(gaps.get(key) ?? []), v]);
const totals: number[] = [];
const done: Array<{ workflowId: string; t0: number; t1: number; t2: number }> = [];
try {
  const warm = await h.client.startTriage(ticketEvent(TICKET));
  await h.client.triageResult(warm.workflowId);
  for (let i = 0; i < runs; i++) {
    const event = ticketEvent(TICKET);
    const t0 = performance.timeOrigin + performance.now();
    const { workflowId } = await h.client.startTriage(event);
    const t1 = performance.timeOrigin + performance.now();
    await h.client.triageResult(workflowId);
    const t2 = performance.timeOrigin + performance.now();
    totals.push(t2 - t0);
    done.push({ workflowId, t0, t1, t2 });
    if (pause > 0) await new Promise((r) => setTimeout(r, pause));
  }
  for (const { workflowId, t0, t1, t2 } of done) {
    const history = await h.client.client.workflow.getHandle(workflowId).fetchHistory();
    const events = (history.events ?? []).map(asJsonEvent).filter(
      (e) => e.eventType !== 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
    );
    const names = new Map<string, string>();
    let prev = t0;
    add(`00 client start() returned`, t1 - t0);
    events.forEach((e, n) => {
      const at = e.eventTime;
      add(`${String(n + 1).padStart(2, '0')} ${label(e, names)}`, at - prev);
      prev = at;
    });
    add(`99 client result() returned`, t2 - prev);
  }
} finally {
  await h.close();
}

process.stdout.write(`model double latency ${latencyMs} ms, ${runs} runs; median gap to the previous event in ms, then every sample\n`);
process.stdout.write('(rows 00 and 01 are measured from the client calling start(); search attribute upserts are left out)\n');
for (const [key, samples] of [...gaps.entries()].sort(([a], [b]) => a.localeCompare(b))) {
  const sorted = [...samples].sort((a, b) => a - b).map((x) => x.toFixed(0));
  process.stdout.write(`${key.padEnd(50)} ${median(samples).toFixed(1).padStart(8)}  [${sorted.join(' ')}]\n`);
}
process.stdout.write(`${'total (client start → result)'.padEnd(60)} ${median(totals).toFixed(1).padStart(8)}\n`);
