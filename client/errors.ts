// What client functions throw that a person can act on. Each surface says it in its own words (cli/errors.ts
// names flags and commands, chat/commands.ts names slash commands): nothing here speaks either surface's syntax.

/** No rollout (workflow) with this id. */
export class RolloutNotFound extends Error {
  override name = 'RolloutNotFound';
  constructor(readonly id: string) {
    super(`no rollout with id ${id}`);
  }
}

/** An operator action the rollout refused (its update validator, or the client before asking): the message says why. */
export class ActionRefused extends Error {
  override name = 'ActionRefused';
}

/** The schedule inputs, by what they mean; each surface names them its own way (`--every`, "the interval", …). */
export type ScheduleArgument = 'every' | 'cron' | 'catchup' | 'mesh';

/** Bad schedule input: which argument, and what is wrong with it. */
export class ScheduleInputError extends Error {
  override name = 'ScheduleInputError';
  constructor(
    readonly argument: ScheduleArgument,
    readonly problem: string,
  ) {
    super(`${argument}: ${problem}`);
  }
}

/** The mesh has no verify schedule. */
export class VerifyScheduleNotFound extends Error {
  override name = 'VerifyScheduleNotFound';
  constructor(readonly mesh: string) {
    super(`no verify schedule for mesh ${mesh}`);
  }
}

/** A verify run of the mesh is already running: a trigger would not start another (overlap: skip). */
export class VerifyRunInProgress extends Error {
  override name = 'VerifyRunInProgress';
  constructor(
    readonly mesh: string,
    readonly running: string[],
  ) {
    super(`a verify run of ${mesh} is already in progress: ${running.join(', ')}`);
  }
}

/** Temporal could not be reached at all (as opposed to refusing or not knowing something): names the address. */
export class TemporalUnreachable extends Error {
  override name = 'TemporalUnreachable';
  constructor(
    readonly address: string,
    detail: string,
  ) {
    super(`Temporal at ${address} is not reachable (${detail})`);
  }
}

/** The detach inputs, by what they mean; each surface names them its own way (`MESH`, "the cluster", `--reason`). */
export type DetachArgument = 'mesh' | 'cluster' | 'reason';

/** Bad detach input: which argument, and what is wrong with it. */
export class DetachInputError extends Error {
  override name = 'DetachInputError';
  constructor(
    readonly argument: DetachArgument,
    readonly problem: string,
  ) {
    super(`${argument}: ${problem}`);
  }
}

/** The backup inputs, by what they mean; each surface names them its own way (`--cluster`, `--keep-last`, …). */
export type BackupArgument = 'mesh' | 'cluster' | 'keep-last' | 'max-age' | 'file' | 'node' | 'snapshot';

/** Bad backup input: which argument, and what is wrong with it. */
export class BackupInputError extends Error {
  override name = 'BackupInputError';
  constructor(
    readonly argument: BackupArgument,
    readonly problem: string,
  ) {
    super(`${argument}: ${problem}`);
  }
}

/** The mesh (or cluster) has no backup schedule. */
export class BackupScheduleNotFound extends Error {
  override name = 'BackupScheduleNotFound';
  constructor(
    readonly mesh: string,
    readonly cluster?: string,
  ) {
    super(`no backup schedule for ${cluster ? `cluster ${cluster} of ` : ''}mesh ${mesh}`);
  }
}

/** The failover drill inputs, by what they mean; each surface names them its own way (`--region`, "the region"). */
export type FailoverArgument = 'region' | 'service';

/** Bad failover-drill input: which argument, and what is wrong with it. */
export class FailoverInputError extends Error {
  override name = 'FailoverInputError';
  constructor(
    readonly argument: FailoverArgument,
    readonly problem: string,
  ) {
    super(`${argument}: ${problem}`);
  }
}
