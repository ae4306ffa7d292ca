// The worker bundles this module: it exports workflow functions and nothing else.
export { supportTicketTriage } from './triage.js';
export { complaintEscalation } from './complaint.js';
export { resourceLease } from 'governor/workflow';
export { agentHandoff, researchAgent, analystAgent } from './handoff.js';
export { evalTicketClassification } from './eval.js';
export { supportAgent } from './agent.js';
export { documentPipeline } from './document.js';
