// The worker bundles this module: it exports workflow functions and nothing else.
//
// Each workflow's module is loaded when a run of that workflow starts, not with this index: the SDK evaluates a new
// run's modules afresh (to keep runs apart), so importing every workflow here would make each run evaluate all of
// them — their contracts, prompts and schemas — in time and in the memory of every cached run. The bundle still holds
// every module ("eager": no chunk to fetch); the import resolves within the run's first activation.
import type * as Agent from './agent.js';
import type * as Complaint from './complaint.js';
import type * as Document from './document.js';
import type * as Evals from './eval.js';
import type * as Handoff from './handoff.js';
import type * as Triage from './triage.js';

export { resourceLease } from 'governor/workflow';

export async function supportTicketTriage(...args: Parameters<typeof Triage.supportTicketTriage>): ReturnType<typeof Triage.supportTicketTriage> {
  return (await import(/* webpackMode: "eager" */ './triage.js')).supportTicketTriage(...args);
}

export async function complaintEscalation(...args: Parameters<typeof Complaint.complaintEscalation>): ReturnType<typeof Complaint.complaintEscalation> {
  return (await import(/* webpackMode: "eager" */ './complaint.js')).complaintEscalation(...args);
}

export async function agentHandoff(...args: Parameters<typeof Handoff.agentHandoff>): ReturnType<typeof Handoff.agentHandoff> {
  return (await import(/* webpackMode: "eager" */ './handoff.js')).agentHandoff(...args);
}

export async function researchAgent(...args: Parameters<typeof Handoff.researchAgent>): ReturnType<typeof Handoff.researchAgent> {
  return (await import(/* webpackMode: "eager" */ './handoff.js')).researchAgent(...args);
}

export async function analystAgent(...args: Parameters<typeof Handoff.analystAgent>): ReturnType<typeof Handoff.analystAgent> {
  return (await import(/* webpackMode: "eager" */ './handoff.js')).analystAgent(...args);
}

export async function evalTicketClassification(...args: Parameters<typeof Evals.evalTicketClassification>): ReturnType<typeof Evals.evalTicketClassification> {
  return (await import(/* webpackMode: "eager" */ './eval.js')).evalTicketClassification(...args);
}

export async function supportAgent(...args: Parameters<typeof Agent.supportAgent>): ReturnType<typeof Agent.supportAgent> {
  return (await import(/* webpackMode: "eager" */ './agent.js')).supportAgent(...args);
}

export async function documentPipeline(...args: Parameters<typeof Document.documentPipeline>): ReturnType<typeof Document.documentPipeline> {
  return (await import(/* webpackMode: "eager" */ './document.js')).documentPipeline(...args);
}
