// The CLI's words for the errors other layers throw: flags by their names, next steps as commands to run.
import { BlueprintFileInvalid } from '../blueprint/plan-file.ts';
import {
  ActionRefused,
  BackupInputError,
  FailoverInputError,
  BackupScheduleNotFound,
  type BackupArgument,
  DetachInputError,
  RolloutNotFound,
  ScheduleInputError,
  TemporalUnreachable,
  VerifyRunInProgress,
  VerifyScheduleNotFound,
  type DetachArgument,
  type ScheduleArgument,
} from '../client/errors.ts';
import { CliError } from './io.ts';

const FLAG: Record<ScheduleArgument, string> = { every: '--every', cron: '--cron', catchup: '--catchup', mesh: 'mesh' };
const DETACH_ARG: Record<DetachArgument, string> = { mesh: 'MESH', cluster: 'CLUSTER', reason: '--reason' };
const BACKUP_ARG: Record<BackupArgument, string> = { mesh: 'MESH', cluster: '--cluster', 'keep-last': '--keep-last', 'max-age': '--max-age', file: 'MESH|FILE', node: '--node', snapshot: '--snapshot' };

/** The CliError (message, exit code, hint) for an error a person can act on; undefined for anything else. */
export function cliErrorOf(err: unknown): CliError | undefined {
  if (err instanceof CliError) return err;
  if (err instanceof BlueprintFileInvalid) return new CliError(err.message, 1, `run: meshpilot validate ${err.file}`);
  if (err instanceof ScheduleInputError) return new CliError(`${FLAG[err.argument]}: ${err.problem}`, 2);
  if (err instanceof FailoverInputError) return new CliError(`--${err.argument}: ${err.problem}`, 2);
  if (err instanceof BackupInputError) return new CliError(`${BACKUP_ARG[err.argument]}: ${err.problem}`, 2);
  if (err instanceof BackupScheduleNotFound) return new CliError(err.message, 1, 'see meshpilot backup schedule list; create one with meshpilot backup schedule create FILE --every 1d');
  if (err instanceof DetachInputError) return new CliError(`${DETACH_ARG[err.argument]}: ${err.problem}`, 2);
  if (err instanceof VerifyScheduleNotFound) return new CliError(err.message, 1, 'see meshpilot schedule list; create one with meshpilot schedule create FILE --every 6h');
  if (err instanceof VerifyRunInProgress) return new CliError(err.message, 1, 'a schedule never overlaps runs: wait for that one (meshpilot schedule list)');
  if (err instanceof RolloutNotFound) return new CliError(err.message, 1, 'see meshpilot list');
  if (err instanceof ActionRefused) return new CliError(`refused: ${err.message}`, 1);
  if (err instanceof TemporalUnreachable) return new CliError(err.message, 1, 'is the server up? TEMPORAL_ADDRESS points meshpilot at it (meshpilot dev starts a local one)');
  return undefined;
}
