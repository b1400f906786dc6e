// Loaded by path (DataConverter.failureConverterPath): the SDK requires it in the worker for activity failures
// and bundles it into the workflow sandbox for workflow failures. A path is the only way to reach both.
import { DefaultFailureConverter } from '@temporalio/common';

/** Moves failure messages and stack traces into a payload, so the payload codec encrypts them too. */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
