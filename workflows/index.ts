// The worker bundles this module: it exports workflow functions and nothing else.
export { supportTicketTriage } from './triage';
