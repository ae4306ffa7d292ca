// The worker bundles this module: it exports workflow functions and nothing else.
export { supportTicketTriage } from './triage';
export { complaintEscalation } from './complaint';
export { resourceLease } from './lease';
export { agentHandoff, researchAgent, analystAgent } from './handoff';
