/**
 * History economy of an action run: one complaint run (the model's decision, the held actions it proposes, their
 * leases, evidence and the escalation email) and one triage run, on the same deployment; events and encoded bytes of
 * each history, against what a complaint run wrote before this benchmark existed.
 */
import proto from '@temporalio/proto';
import { complaintEvent, startHarness, ticketEvent } from '../examples/support/harness.js';
import { TICKET, type Figure } from './common.js';

/**
 * A default complaint run's history before its tool steps ran as local activities (measured on 2026-11-23 with this
 * benchmark on commit 65a396e, the same complaint event): encoded bytes, and as JSON (82.4 KB).
 */
export const COMPLAINT_HISTORY_BEFORE = { events: 116, bytes: 41_267 };

export interface HistorySize {
  readonly events: number;
  readonly bytes: number;
  readonly jsonBytes: number;
  /** Events by type, most first. */
  readonly byType: ReadonlyArray<readonly [string, number]>;
}

async function sizeOf(fetch: () => Promise<proto.temporal.api.history.v1.IHistory>): Promise<HistorySize> {
  const history = await fetch();
  const events = history.events ?? [];
  const byType = new Map<string, number>();
  for (const e of events) {
    const type = (proto.temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? '?').replace('EVENT_TYPE_', '');
    byType.set(type, (byType.get(type) ?? 0) + 1);
  }
  const H = proto.temporal.api.history.v1.History;
  return {
    events: events.length,
    bytes: H.encode(history).finish().length,
    // As `temporal workflow show --output json` and the Web UI's download write it (payloads in base64).
    jsonBytes: JSON.stringify(H.toObject(H.fromObject(history as object), { longs: String, enums: String, bytes: String })).length,
    byType: [...byType.entries()].sort((a, b) => b[1] - a[1]),
  };
}

export async function measureHistory(o: { readonly log: (line: string) => void }): Promise<{ figure: Figure; complaint: HistorySize; triage: HistorySize }> {
  const h = await startHarness({ modelTimeoutMs: 30_000 });
  try {
    const c = await h.client.startComplaint(complaintEvent());
    const result = await h.client.complaintResult(c.workflowId);
    if (result.outcome !== 'completed') throw new Error(`the complaint run ended ${result.outcome}`);
    const t = await h.client.startTriage(ticketEvent(TICKET));
    await h.client.triageResult(t.workflowId);
    const complaint = await sizeOf(() => h.client.client.workflow.getHandle(c.workflowId).fetchHistory());
    const triage = await sizeOf(() => h.client.client.workflow.getHandle(t.workflowId).fetchHistory());
    const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
    o.log(`complaint run: ${complaint.events} events, ${kb(complaint.bytes)} (${kb(complaint.jsonBytes)} as JSON); triage run: ${triage.events} events, ${kb(triage.bytes)} (${kb(triage.jsonBytes)} as JSON)`);
    o.log(`complaint events by type: ${complaint.byType.map(([k, n]) => `${k} ${n}`).join(', ')}`);
    const ratio = Math.max(complaint.events / COMPLAINT_HISTORY_BEFORE.events, complaint.bytes / COMPLAINT_HISTORY_BEFORE.bytes);
    return {
      complaint,
      triage,
      figure: {
        name: 'complaint history, now ÷ before (events, bytes)',
        value: ratio,
        target: { max: 0.5 },
        detail: `${complaint.events} events / ${kb(complaint.bytes)} vs ${COMPLAINT_HISTORY_BEFORE.events} / ${kb(COMPLAINT_HISTORY_BEFORE.bytes)}`,
      },
    };
  } finally {
    await h.close();
  }
}
