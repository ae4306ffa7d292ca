// The module the worker bundles: workflow functions, and Governor's resource lease (one owner per written resource).
export { creditRequest } from './credit-request.js';
export { resourceLease } from 'governor/workflow';
