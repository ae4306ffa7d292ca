/**
 * Loaded once into the worker's reusable V8 context, before any workflow exists, and shared by every workflow run
 * (the bundler's `preloadModules`). Without it each new workflow evaluates zod's whole library again: several ms of
 * every run's first workflow task. zod keeps no per-run state at module level, so sharing it changes nothing a
 * workflow can observe. Imported as ESM, as the workflow code imports it, so these are the module instances shared.
 */
import { z } from 'zod';

// No compiled fast paths: zod compiles one per object schema on its first parses, and a workflow run's schemas are
// its own (built again for each run), so the compiling would be paid by every run and never reused.
z.config({ jitless: true });
// The SDK deep-freezes what is shared, and zod sets its global configuration (default locale, memoizer) lazily, on
// the first schema built and parsed: do both here, before the freeze, so no workflow ever writes to it.
z.strictObject({ field: z.string().min(1), list: z.array(z.number()).optional() }).safeParse({ field: '', list: ['x'] });

export { z };
