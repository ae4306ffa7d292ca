import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';

/**
 * Search attribute updates gathered within a workflow task and written as one upsert. Visibility sees a run only
 * between its tasks, so the phases a task passes through on its way are never seen, yet each upsert is a history
 * event and a visibility write. `set` merges by key (the last value wins); `flush` writes what is pending as one
 * upsert. Call it before the run waits on anything outside the task (an activity, a timer, a person) and before it
 * returns; local activities run inside the task and need none. Writing fewer upsert commands changes a workflow's
 * commands: a workflow turns it on behind a version marker.
 */
export class SearchAttributeBatch {
  private readonly pending = new Map<string, SearchAttributeUpdatePair>();

  set(pairs: readonly SearchAttributeUpdatePair[]): void {
    for (const pair of pairs) {
      // Re-inserted so the upsert lists keys in the order they last changed.
      this.pending.delete(pair.key.name);
      this.pending.set(pair.key.name, pair);
    }
  }

  flush(): void {
    if (this.pending.size === 0) return;
    upsertSearchAttributes([...this.pending.values()]);
    this.pending.clear();
  }
}
