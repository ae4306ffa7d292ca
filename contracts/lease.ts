import { defineQuery, defineSignal } from '@temporalio/workflow';

/* Resource leases: one owner per written resource, across runs. Defined once for the lease workflow, the kit's
 * `Leases` and the activity that asks for a lease. */

/** Each written resource has one lease workflow, `lease/<resource>`, started on demand by signal-with-start. */
export const resourceLeaseWorkflowName = 'resourceLease';

export function leaseWorkflowId(resource: string): string {
  return `lease/${resource}`;
}

export interface LeaseRequest {
  readonly resource: string;
  /** The workflow the grant is signalled back to. */
  readonly requesterWorkflowId: string;
  /** Unique per write step and resource: `workflowId/stepId/resource`. */
  readonly requestId: string;
  /** How long the holder may keep the lease before it is taken back (the fence then refuses its writes). */
  readonly ttl: string;
}

export interface LeaseGrant {
  readonly resource: string;
  readonly requestId: string;
  /** Fencing token: grows with every grant of this resource; the store refuses a write with an older one. */
  readonly token: number;
}

export interface LeaseState {
  readonly resource: string;
  readonly holder: (LeaseGrant & { readonly requesterWorkflowId: string }) | null;
  readonly queue: readonly LeaseRequest[];
  readonly grants: number;
}

/** Fire-and-forget in both directions: the lease workflow answers an acquire with a grant signal, later. */
export const leaseAcquireSignal = defineSignal<[LeaseRequest]>('leaseAcquire');
/** Releases a held lease, or withdraws a queued request (a requester that gave up waiting). */
export const leaseReleaseSignal = defineSignal<[{ requestId: string }]>('leaseRelease');
export const leaseGrantedSignal = defineSignal<[LeaseGrant]>('leaseGranted');
export const leaseStateQuery = defineQuery<LeaseState>('leaseState');

