import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ALL_SEARCH_ATTRIBUTES } from '../../contracts/names.ts';
import { resolveTemporalBinary } from '../../temporal/cli-binary.ts';

/**
 * A real Temporal server for a test file: the pinned `temporal` CLI dev server (createLocal, existing-path),
 * or the server at TEMPORAL_ADDRESS when set. A missing binary fails the test; it is never skipped.
 */
export async function startTemporal(extraArgs: string[] = []): Promise<TestWorkflowEnvironment> {
  if (process.env.TEMPORAL_ADDRESS) {
    const env = await TestWorkflowEnvironment.createFromExistingServer({ address: process.env.TEMPORAL_ADDRESS });
    await env.connection.operatorService
      .addSearchAttributes({
        namespace: env.namespace ?? 'default',
        searchAttributes: Object.fromEntries(ALL_SEARCH_ATTRIBUTES.map((k) => [k.name, 2 /* KEYWORD */])),
      })
      .catch(() => {});
    return env;
  }
  const bin = await resolveTemporalBinary({ install: true, allowDownload: false });
  if (!bin.path) throw new Error('no temporal CLI for tests');
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: bin.path },
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      extraArgs,
    },
  });
}
