/**
 * `npm run provision` (also run before `npm test`): makes sure the Temporal CLI is available, building it from the
 * Go module proxy on first use, with progress. Prints where it came from and how long it took.
 */
import { provisionTemporalCli } from '../workers/temporal-cli.js';

const started = Date.now();
const cli = await provisionTemporalCli();
process.stderr.write(`governor: Temporal CLI ready (${cli.source}: ${cli.path}) in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
