/**
 * `tsx scripts/build-workflow-bundle.ts <path>`: writes the support domain's workflow bundle for a worker that runs as
 * built (`npm run build:image` puts it next to the compiled worker), so the worker starts without webpack.
 */
import { resolve } from 'node:path';
import { writeWorkflowBundle } from 'governor/worker';
import { SUPPORT_WORKFLOWS_PATH } from '../examples/support/setup.js';

const path = process.argv[2];
if (!path) {
  process.stderr.write('usage: build-workflow-bundle <path of the bundle to write>\n');
  process.exit(2);
}
await writeWorkflowBundle({ workflowsPath: SUPPORT_WORKFLOWS_PATH, path: resolve(path) });
process.stdout.write(`wrote ${path}\n`);
