import { connectTemporal, GovernorClient, type GovernorClientOptions, type StartResult, type UpdateResult } from 'governor/client';
import { DEFAULT_TASK_QUEUE } from 'governor';
import type { ModelChoice } from 'governor/workflow';
import type { ComplaintConfigInput, ComplaintResult, ComplaintState } from './contracts/complaint.js';
import type { AnalystResult, HandoffState } from './contracts/handoff.js';
import type { TriageConfigInput, TriageResult, TriageState } from './contracts/triage.js';
import { complaintWorkflow, handoffWorkflow, SUPPORT_WORKFLOWS, triageWorkflow, type ApprovalAccepted, type ReviewAccepted } from './definitions.js';

/**
 * A typed client for the support workflows: the generic `GovernorClient`, driven by their descriptors, with one
 * typed method per start, decision and state. What a team writes for its own workflows when it wants types at the
 * call site; everything here is a one-line call of the generic client.
 */
export class SupportClient extends GovernorClient {
  static override async connect(options: Partial<GovernorClientOptions> = {}): Promise<SupportClient> {
    const { client, connection } = await connectTemporal(options);
    return new SupportClient(client, connection, options.taskQueue ?? DEFAULT_TASK_QUEUE, SUPPORT_WORKFLOWS);
  }

  startTriage(trigger: unknown, config: TriageConfigInput = {}, model?: ModelChoice): Promise<StartResult> {
    return this.start(triageWorkflow, trigger, config as Record<string, unknown>, { model });
  }

  /** A reviewer's decision on a triage run. */
  review(workflowId: string, decision: unknown): Promise<UpdateResult<Omit<ReviewAccepted, 'status'>>> {
    return this.decide(workflowId, 'review', decision);
  }

  triageState(workflowId: string): Promise<TriageState> {
    return this.state<TriageState>(workflowId);
  }

  triageResult(workflowId: string): Promise<TriageResult> {
    return this.result<TriageResult>(workflowId);
  }

  startComplaint(trigger: unknown, config: ComplaintConfigInput = {}, model?: ModelChoice): Promise<StartResult> {
    return this.start(complaintWorkflow, trigger, config as Record<string, unknown>, { model });
  }

  /** Approves or rejects an action a complaint run holds for a person. */
  approveAction(workflowId: string, decision: unknown): Promise<UpdateResult<Omit<ApprovalAccepted, 'status'>>> {
    return this.decide(workflowId, 'approve-action', decision);
  }

  /** Closes what a complaint run escalated to a person. */
  resolve(workflowId: string, resolution: unknown): Promise<UpdateResult<{ reviewerId: string }>> {
    return this.decide(workflowId, 'resolve', resolution);
  }

  complaintState(workflowId: string): Promise<ComplaintState> {
    return this.state<ComplaintState>(workflowId);
  }

  complaintResult(workflowId: string): Promise<ComplaintResult> {
    return this.result<ComplaintResult>(workflowId);
  }

  startHandoff(input: unknown): Promise<StartResult> {
    return this.start(handoffWorkflow, input);
  }

  handoffState(workflowId: string): Promise<HandoffState> {
    return this.state<HandoffState>(workflowId);
  }

  handoffResult(workflowId: string): Promise<AnalystResult> {
    return this.result<AnalystResult>(workflowId);
  }
}
