// Loaded by path (DataConverter.failureConverterPath): the SDK requires it in the worker for activity failures
// and bundles it into the workflow sandbox for workflow failures. A path is the only way to reach both.
import { ApplicationFailure, DefaultFailureConverter, type PayloadConverter } from '@temporalio/common';
import type { SerializationContext } from '@temporalio/common/lib/converter/serialization-context';
import { ACTION_REFUSED } from '../contracts/failures.ts';

const encoding = new DefaultFailureConverter({ encodeCommonAttributes: true });
const plain = new DefaultFailureConverter({ encodeCommonAttributes: false });

/**
 * Moves failure messages and stack traces into a payload, so the payload codec encrypts them too. One exception:
 * an update refused by its validator keeps its message in clear, so an operator in the Web UI reads why (those
 * messages name only steps and rules, never tool output or secrets).
 */
class MeshpilotFailureConverter extends DefaultFailureConverter {
  override errorToFailure(err: unknown, payloadConverter: PayloadConverter, context?: SerializationContext) {
    const refused = err instanceof ApplicationFailure && err.type === ACTION_REFUSED;
    return (refused ? plain : encoding).errorToFailure(err, payloadConverter, context);
  }
}

export const failureConverter = new MeshpilotFailureConverter({ encodeCommonAttributes: true });
