import assert from 'node:assert/strict';
import type { ApplicationFailure } from '@temporalio/common';

/** The failure an adapter threw; fails the test when it did not throw. */
export async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    return err as ApplicationFailure;
  }
  assert.fail('expected the adapter to throw');
}
