import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import type { SecretStore } from '../secrets/store.ts';
import { AesGcmCodec } from './aes-gcm-codec.ts';
import { loadCodecKeyring, type CodecKeyring } from './config.ts';

/** Pass this to `bundleWorkflowCode({ failureConverterPath })` when prebundling workflows. */
export const failureConverterPath = fileURLToPath(new URL('./failure-converter.ts', import.meta.url));

/**
 * The one data converter for the worker, the CLI, the chat app and schedules (`Worker.create({ dataConverter })`,
 * `new Client({ dataConverter })`). DataConverter takes codecs as instances but the failure converter only as a
 * module path (the worker requires it and bundles it into the sandbox), so the path is what we hand over.
 * Search attributes, workflow ids and task-queue names are never encoded: keep them free of secrets.
 */
export function dataConverter(keys: CodecKeyring): DataConverter {
  return { payloadCodecs: [new AesGcmCodec(keys)], failureConverterPath };
}

/** The converter the environment asks for: encrypted when codec keys are configured, the SDK default otherwise. */
export async function dataConverterFromEnv(env: NodeJS.ProcessEnv, secrets?: SecretStore): Promise<DataConverter> {
  const keys = await loadCodecKeyring(env, secrets);
  return keys ? dataConverter(keys) : {};
}
