import { ApplicationFailure, CancellationScope, condition, getExternalWorkflowHandle, proxyActivities, proxyLocalActivities, setHandler, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import { FailureType } from '../contracts/failures.js';
import type { Activities } from '../activities/index.js';
import { leaseGrantedSignal, leaseReleaseSignal, leaseWorkflowId } from '../contracts/lease.js';

/** Asking for a lease is one signal-with-start; it is cheap and safe to retry (the lease workflow dedupes). */
const REQUEST: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', maximumInterval: '5s', maximumAttempts: 5 },
};
const regular = proxyActivities<Activities>(REQUEST).requestLease;
const local = proxyLocalActivities<Activities>(REQUEST).requestLease;

export interface LeaseOptions {
  /** How long a write waits in the queue before it is refused instead (`LeaseTimeout`). */
  readonly wait: string;
  /** How long the lease may be held. */
  readonly ttl: string;
  /** Ask through a local activity (one marker in history instead of three events and a workflow task). */
  readonly local?: boolean;
}

/**
 * The requester side of resource leases. One per workflow run: it listens for grants, asks for leases in a fixed
 * (sorted) order so two writers needing the same pair cannot deadlock, and always releases.
 */
export class Leases {
  private readonly granted = new Map<string, number>();

  constructor() {
    setHandler(leaseGrantedSignal, (g) => {
      this.granted.set(g.requestId, g.token);
    });
  }

  /** Runs `fn` holding every resource's lease; `fn` gets the fencing tokens to present to the store. */
  async with<T>(resources: readonly string[], stepId: string, options: LeaseOptions, fn: (tokens: Record<string, number>) => Promise<T>): Promise<T> {
    const { workflowId, runId } = workflowInfo();
    const held: Array<{ resource: string; requestId: string }> = [];
    const tokens: Record<string, number> = {};
    try {
      for (const resource of [...new Set(resources)].sort()) {
        // The run id keeps a reset run's request apart from the lease its earlier run may still hold.
        const requestId = `${workflowId}/${runId}/${stepId}/${resource}`;
        held.push({ resource, requestId });
        await (options.local ? local : regular)({ resource, requesterWorkflowId: workflowId, requestId, ttl: options.ttl });
        if (!(await condition(() => this.granted.has(requestId), options.wait))) {
          throw ApplicationFailure.create({
            type: FailureType.LeaseTimeout,
            nonRetryable: true,
            message: `no lease on ${resource} within ${options.wait}: another owner is writing it`,
          });
        }
        tokens[resource] = this.granted.get(requestId)!;
      }
      return await fn(tokens);
    } finally {
      // Release (or withdraw the queued request) for everything asked for, even on failure, timeout or
      // cancellation of the run: otherwise the resource stays blocked until the lease's TTL.
      await CancellationScope.nonCancellable(async () => {
        for (const { resource, requestId } of held.reverse()) {
          this.granted.delete(requestId);
          // A lease workflow that already closed holds nothing of ours: nothing to release.
          await getExternalWorkflowHandle(leaseWorkflowId(resource))
            .signal(leaseReleaseSignal, { requestId })
            .catch(() => undefined);
        }
      });
    }
  }
}
