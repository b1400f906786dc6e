import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { projectRoot } from '../../config/env.ts';

/**
 * Debian's chromium: playwright's own browser download has no route out of this network. The binary itself, not
 * the /usr/bin/chromium wrapper script: the wrapper's /dev/shm probe breaks where findmnt reports two mounts
 * (`[: …: unexpected operator`), and it only adds the flag set below anyway.
 */
export const CHROMIUM_PATH = '/usr/lib/chromium/chromium';

/** Screenshots land here (ignored by git) so CI keeps them with the test output. */
export const UI_OUTPUT_DIR = path.join(projectRoot, '.test-output', 'ui');

// Without a network Chromium keeps retrying its own background services (updates, sync, QUIC probes, field
// trials) against closed connections; these flags keep it to the pages the test opens.
const QUIET_OFFLINE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // what the wrapper would add when /dev/shm is small (a container's 64 MB): shared memory in /tmp instead
  '--disable-dev-shm-usage',
];

export interface HeadlessBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless Chromium on a fresh profile (playwright passes it as --user-data-dir). Fails, never skips, when the
 * browser is missing: the UI test is part of what CI proves.
 */
export async function launchChromium(): Promise<HeadlessBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no browser at ${CHROMIUM_PATH}: run \`bash scripts/setup.d/tests/60-chromium.sh\` (apt-get install chromium)`);
  }
  const profile = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: QUIET_OFFLINE_ARGS,
    viewport: { width: 1400, height: 1000 },
  });
  // Every step of the UI answers in well under a second on a quiet machine, but a 2-core machine at load 25 was seen
  // to take over 15 s to render the details table; a stuck step still fails well before the test's own budget.
  context.setDefaultTimeout(60_000);
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(UI_OUTPUT_DIR, { recursive: true });
  return path.join(UI_OUTPUT_DIR, `${name}.png`);
}
