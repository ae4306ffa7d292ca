/**
 * `governor`: the contracts every side shares — pure code, safe in workflows, clients and workers alike. Tool
 * declarations, the failure table, trigger-contract helpers, budgets and prices, the policy schema, ids, evidence.
 */
export * from './budget.js';
export * from './evidence.js';
export * from './failures.js';
export * from './handoff.js';
export * from './ids.js';
export * from './issues.js';
export * from './lease.js';
export * from './model.js';
export * from './policy.js';
export * from './tools.js';
export * from './trigger.js';
export * from './slo.js';
export * from './controls.js';
export * from './prompts.js';
export * from './review.js';
export * from './context.js';
export * from './reads.js';
