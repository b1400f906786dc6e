// What every chat handler needs, built once by the app. Handlers are thin: parse, check, call one client
// function, render.
import type { Client } from '@temporalio/client';
import type { PauseLimits } from '../contracts/steps.ts';
import type { Notifier } from '../notify/notifier.ts';
import type { AllowList } from './allow-list.ts';
import type { RolloutFollowers } from './follower.ts';
import type { VerifyPort } from './verify-port.ts';

export interface ChatCore {
  client: Client;
  taskQueue: string;
  blueprintDir: string;
  allow: AllowList;
  followers: RolloutFollowers;
  notifier: Notifier;
  verify: VerifyPort;
  uiLink(workflowId: string): string | undefined;
  log(line: string): void;
  /** pause re-check timings handed to new rollouts (tests shorten them) */
  limits?: PauseLimits;
}

/** Who acted, as recorded in the rollout's audit: the Slack user id, never a display name (those change). */
export function slackActor(userId: string): { by: string; via: 'slack' } {
  return { by: `slack:${userId}`, via: 'slack' };
}
