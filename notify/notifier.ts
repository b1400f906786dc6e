// The notification port. An adapter (Slack, a generic webhook, later Teams or Mattermost) is one file that
// implements Notifier; callers never know which one they hold.
import type { MessageRef, RolloutMessage } from './message.ts';

export interface Notifier {
  /** short adapter name, also stored in every MessageRef it returns */
  readonly name: string;
  post(msg: RolloutMessage): Promise<MessageRef>;
  /** replaces the message in place (progress, a pause that cleared) instead of posting another one */
  update(ref: MessageRef, msg: RolloutMessage): Promise<void>;
  /** attaches a file under a posted message (a rollout's timeline); adapters that cannot carry files omit it */
  attach?(ref: MessageRef, file: Attachment): Promise<void>;
}

export interface Attachment {
  filename: string;
  title: string;
  content: string;
  /** one line posted with the file */
  comment?: string;
}

/**
 * A delivery that failed. `retryable` says whether trying again later can help (network, 5xx, rate limit):
 * an activity maps it to `transient`, anything else to `fatal` with the hint. Messages never hold the token,
 * the signing secret or a webhook URL's path (they often embed a secret).
 */
export class NotifyError extends Error {
  override name = 'NotifyError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly hint?: string,
    /** seconds the peer asked us to wait (HTTP 429 Retry-After) */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

export function isNotifyError(err: unknown): err is NotifyError {
  return err instanceof NotifyError;
}

/** A ref from another adapter means the caller mixed notifiers up: say so instead of posting somewhere odd. */
export function assertOwnRef(adapter: Notifier, ref: MessageRef): void {
  if (ref.adapter !== adapter.name) {
    throw new NotifyError(`message ref belongs to the ${ref.adapter} adapter, not ${adapter.name}`, false, 'update a message through the adapter that posted it');
  }
}
