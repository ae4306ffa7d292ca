import { condition, continueAsNew, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  leaseAcquireSignal,
  leaseGrantedSignal,
  leaseReleaseSignal,
  leaseStateQuery,
  type LeaseGrant,
  type LeaseRequest,
} from '../contracts/lease.js';

export interface ResourceLeaseInput {
  readonly resource: string;
  /** Default lease time-to-live when a request names none. */
  readonly ttl?: string;
  /** Carried over continue-as-new. */
  readonly carried?: { readonly queue: LeaseRequest[]; readonly fence: number };
}

/** How long an idle lease workflow lingers before closing; the next request starts a new run. */
const IDLE = '1 minute';
/** Grants per run before continuing as new, so history stays short however busy the resource is. */
const GRANTS_PER_RUN = 200;

/**
 * The owner of one resource's write lease: requests queue in arrival order and are granted one at a time, each with
 * a fencing token larger than any before it. A holder that does not release within its TTL loses the lease; its
 * late writes are refused by the store's fence, so writes to the resource can never interleave.
 *
 * Tokens start each run above `runStartTime × 1000`, so a run started after an idle close still issues tokens
 * larger than the previous run's (it would need a thousand grants per millisecond to catch up).
 */
export async function resourceLease(input: ResourceLeaseInput): Promise<void> {
  const queue: LeaseRequest[] = [...(input.carried?.queue ?? [])];
  let fence = Math.max(input.carried?.fence ?? 0, workflowInfo().runStartTime.getTime() * 1000);
  let holder: (LeaseGrant & { requesterWorkflowId: string }) | null = null;
  let grants = 0;

  setHandler(leaseAcquireSignal, (req) => {
    // A retried acquire activity may deliver the same request twice: keep one.
    if (holder?.requestId === req.requestId || queue.some((q) => q.requestId === req.requestId)) return;
    queue.push(req);
  });
  setHandler(leaseReleaseSignal, ({ requestId }) => {
    if (holder?.requestId === requestId) holder = null;
    const queued = queue.findIndex((q) => q.requestId === requestId);
    if (queued >= 0) queue.splice(queued, 1);
  });
  setHandler(leaseStateQuery, () => ({ resource: input.resource, holder, queue: [...queue], grants }));

  for (;;) {
    if (!(await condition(() => queue.length > 0, IDLE))) return;
    const next = queue.shift()!;
    fence += 1;
    holder = { resource: input.resource, requestId: next.requestId, token: fence, requesterWorkflowId: next.requesterWorkflowId };
    try {
      await getExternalWorkflowHandle(next.requesterWorkflowId).signal(leaseGrantedSignal, {
        resource: input.resource,
        requestId: next.requestId,
        token: fence,
      });
    } catch {
      // The requester has closed: nobody to hold the lease.
      holder = null;
      continue;
    }
    await condition(() => holder === null, next.ttl || input.ttl || '5 minutes');
    holder = null;
    grants++;
    if (grants >= GRANTS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof resourceLease>({ resource: input.resource, ttl: input.ttl, carried: { queue, fence } });
    }
  }
}
