import { Policy, type PolicyInput } from 'governor';

/**
 * The support domain's permission policy (a worker given `GOVERNOR_POLICY_FILE` uses that file instead). The complaint agent can read, note and
 * escalate internally; it cannot move money. Messages to customers and refunds always need a human.
 */
export const SUPPORT_POLICY: Policy = Policy.parse({
  version: '2026-11-23.2',
  actors: {
    'workflow:supportTicketTriage': { scopes: ['tickets:triage', 'escalations:write', 'reviews:remind'], workflows: ['supportTicketTriage'] },
    'agent:complaint-triager': {
      scopes: ['tickets:read', 'customers:read', 'tickets:write', 'email:internal', 'email:customer'],
      workflows: ['complaintEscalation'],
    },
    'agent:support-investigator': { scopes: ['tickets:read', 'customers:read', 'tickets:write'], workflows: ['supportAgent'] },
    'agent:research': { scopes: ['analytics:collect', 'tickets:read'], workflows: ['researchAgent'] },
    'agent:analyst': { scopes: ['analytics:read'], workflows: ['analystAgent'] },
  },
  approval: { riskAtOrAbove: 'high', tools: ['issue_refund', 'send_customer_email'], approvers: ['usr_442'] },
  deny: [],
} satisfies PolicyInput);
