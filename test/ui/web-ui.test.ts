import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { clusterWorkflowId } from '../../contracts/names.ts';
import { healLab } from '../helpers/lab-worker.ts';
import { isFinished, isPaused, start, waitFor } from '../helpers/rollout.ts';
import { launchChromium, screenshotPath, type HeadlessBrowser } from './browser.ts';
import { markdownFrameShowing, openTab, sendUpdate, workflowsListUrl, workflowUrl } from './temporal-ui.ts';
import { startUiStack, type UiStack } from './ui-stack.ts';

// Given the seed's mesh on a lab where usa-worker-1 never answers, an operator uses only the Web UI to find the
// paused cluster, read why it paused, and resume it after fixing the node; the rollout then completes.
describe('the Temporal Web UI in a real browser, payloads decoded by our codec server', () => {
  let stack: UiStack;
  let browser: HeadlessBrowser;
  let page: Page;
  let rolloutId: string;
  let childId: string;
  const t0 = Date.now();
  // Where the time goes, in the test output: the budget is tight on a shared 2-core machine.
  const phase = (name: string) => console.log(`${((Date.now() - t0) / 1000).toFixed(1)}s ${name}`);

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('the paused rollout is found by its search attributes, its details decoded, resumed from the UI, and completes', { timeout: 360_000 }, async () => {
    // Set-up inside the test, not in a hook: a missing browser or server must show as a failed test.
    browser = await launchChromium();
    page = await browser.context.newPage();
    stack = await startUiStack({ scenario: 'node-unreachable' });
    phase('dev server, codec server and worker up');
    // Automatic re-checks far away: only the resume sent through the UI can let the paused step go on.
    const limits = { recheckBaseMs: 600_000, recheckMaxMs: 600_000, maxHistoryEvents: 1_500 };
    rolloutId = (await start(stack.client, stack.plan, stack.taskQueue, limits)).workflowId;
    const paused = await waitFor(stack.client, rolloutId, isPaused, 120_000);
    childId = clusterWorkflowId(rolloutId, 'cluster-usa');
    assert.equal(paused.blocked?.workflowId, childId);
    phase('rollout paused');
    try {
      await operatorJourney();
    } catch (err) {
      const shot = screenshotPath('failure');
      await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
      throw new Error(`${(err as Error).message}\n(at ${page.url()}; screenshot ${shot})`, { cause: err });
    }
  });

  async function operatorJourney() {
    await page.goto(workflowsListUrl(stack.uiUrl, stack.namespace, 'MeshpilotState="paused"'));
    // The cluster child pauses, and the parent says so too: both are listed.
    await page.getByRole('link', { name: childId, exact: true }).waitFor();
    await page.getByRole('link', { name: rolloutId, exact: true }).waitFor();
    await shoot('paused-list');

    // The parent is listed as paused too, but the paused step lives in the child: resume there is refused and
    // nothing changes (the UI shows the refusal in the dialog).
    await page.getByRole('link', { name: rolloutId, exact: true }).click();
    await page.getByText('"rolloutId"').first().waitFor();
    await assert.rejects(sendUpdate(page, 'resume', { by: 'ui-tester', reason: 'wrong workflow' }), /did not send the resume update/);
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel', exact: true }).first().click();
    assert.ok(isPaused(await waitFor(stack.client, rolloutId, () => true)));

    await page.goto(workflowsListUrl(stack.uiUrl, stack.namespace, 'MeshpilotState="paused"'));
    await page.getByRole('link', { name: childId, exact: true }).click();
    await page.waitForURL(/\/workflows\/rollout-[^/]+-cluster-cluster-usa\//);

    // The input is an encrypted payload: readable only because the UI decoded it through our codec server.
    await page.getByText('"parentWorkflowId"').first().waitFor();

    await openTab(page, 'User Metadata');
    await markdownFrameShowing(page, 'usa-europe: cluster cluster-usa (id 1, usa)');
    const details = await markdownFrameShowing(page, /Paused at boot/);
    assert.match(await details.locator('li').filter({ hasText: /boot: paused/ }).first().innerText(), /paused/);
    assert.match(await details.locator('li').filter({ hasText: /preflight: done/ }).first().innerText(), /done/);
    const frameText = await details.locator('body').innerText();
    assert.match(frameText, /Paused at boot/);
    assert.match(frameText, /Reason: waiting for 1 node\(s\) to reach Talos maintenance mode: usa-worker-1 \(192\.168\.10\.21: unreachable\)/);
    assert.match(frameText, /Hint: boot provider none expects nodes already running the Talos installer/);
    assert.match(frameText, /Send an Update → resume/);
    assert.ok(stack.codecRequests.some((l) => /^POST \/decode\S* 200 /.test(l)), `the UI never decoded through the codec: ${stack.codecRequests.join('; ')}`);
    // Without the codec the same details are ciphertext: the server never held them in clear.
    await assert.rejects(stack.plainClient.workflow.getHandle(childId).query('__temporal_workflow_metadata'), /binary\/encrypted|encoding/i);

    // The UI scrolls inside its own layout, so a full-page shot is one viewport: make that tall enough for the table.
    await page.setViewportSize({ width: 1400, height: 1700 });
    await shoot('paused-cluster-details');

    phase('paused details checked in the UI');
    await healLab(stack.labDir, 'node-unreachable');
    await sendUpdate(page, 'resume', { by: 'ui-tester', reason: 'node fixed' });
    assert.ok(stack.codecRequests.some((l) => /^POST \/encode\S* 200 /.test(l)), 'the UI sent the update input without encoding it');

    phase('resume sent through the UI');
    const done = await waitFor(stack.client, rolloutId, isFinished, 150_000);
    phase('rollout finished');
    assert.equal(done.state, 'completed');
    assert.ok(
      done.actions.some((a) => a.action === 'resume' && a.by === 'ui-tester' && a.reason === 'node fixed'),
      `the audit lacks the UI's resume: ${JSON.stringify(done.actions)}`,
    );

    await page.goto(workflowsListUrl(stack.uiUrl, stack.namespace, `MeshpilotKind="rollout" AND MeshpilotState="completed"`));
    await page.getByRole('link', { name: rolloutId, exact: true }).waitFor();
    await page.goto(workflowUrl(stack.uiUrl, stack.namespace, rolloutId));
    await page.getByText(/^completed$/i).first().waitFor();
    await openTab(page, 'User Metadata');
    await markdownFrameShowing(page, 'Mesh usa-europe: completed');
    await shoot('completed-rollout');
    phase('completed view checked in the UI');
  }

  async function shoot(name: string) {
    const file = screenshotPath(name);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot: ${file}`);
  }
});
