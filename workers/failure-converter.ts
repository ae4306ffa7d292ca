import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Loaded into the workflow sandbox when payloads are encrypted (`createGovernorWorker({ codec })`): failure messages
 * and stack traces travel inside an encoded payload, so the codec encrypts them too.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
