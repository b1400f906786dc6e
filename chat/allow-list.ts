// Who may change things from Slack. Anyone who can see a message can press its buttons, so every mutating
// command and every click is checked here, by user id and channel id.

export type Permission = { ok: true } | { ok: false; message: string };

export class AllowList {
  private readonly users: ReadonlySet<string>;
  private readonly channels: ReadonlySet<string>;
  constructor(users: readonly string[], channels: readonly string[]) {
    this.users = new Set(users);
    this.channels = new Set(channels);
  }

  get empty(): boolean {
    return this.users.size === 0 || this.channels.size === 0;
  }

  mayChange(userId: string | undefined, channelId: string | undefined): Permission {
    if (!userId || !this.users.has(userId)) {
      return { ok: false, message: `Sorry <@${userId ?? 'unknown'}>, you are not on the list of people who may change rollouts from Slack. Ask an admin to add your user id to SLACK_ALLOWED_USERS; read-only commands (\`status\`, \`plan\`, \`help\`) work for everyone.` };
    }
    if (!channelId || !this.channels.has(channelId)) {
      return { ok: false, message: 'Rollouts are changed only from the operations channels meshpilot is configured for (SLACK_ALLOWED_CHANNELS), so the whole team sees every action. Run this there.' };
    }
    return { ok: true };
  }
}
