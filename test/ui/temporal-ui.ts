// How a person drives the Temporal Web UI 2.54 (the one `temporal server start-dev` 1.9 embeds), as page steps.
// Selectors go by role and visible text, the way the UI names things to its users.
import type { FrameLocator, Page } from 'playwright-core';

/** The workflows list filtered by a visibility query, e.g. `MeshpilotState="paused"` (the UI's `query` parameter). */
export function workflowsListUrl(uiUrl: string, namespace: string, query: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(query)}`;
}

/** A workflow's latest run; the UI resolves the run id itself. */
export function workflowUrl(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** The tabs under a workflow's header: Timeline, Event History, Relationships, User Metadata, Search Attributes... */
export async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('link', { name, exact: true }).or(page.getByRole('tab', { name, exact: true })).first().click();
}

/**
 * The UI renders summaries and (current) details — our markdown — inside sandboxed iframes, out of reach of
 * page-level text queries: the frame that shows `text`, once it does.
 */
export async function markdownFrameShowing(page: Page, text: string | RegExp, timeoutMs = 30_000): Promise<FrameLocator> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = await page.locator('iframe').count();
    for (let i = 0; i < count; i++) {
      const frame = page.frameLocator('iframe').nth(i);
      if ((await frame.getByText(text).count()) > 0) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no summary/details frame shows ${String(text)} after ${timeoutMs} ms`);
    await page.waitForTimeout(250);
  }
}

/**
 * More Actions → Send an Update: picks the update by name from the workflow's own metadata (the SDK reports its
 * handlers), types the JSON input and submits. Resolves when the UI reports success; rejects with the UI's message.
 */
export async function sendUpdate(page: Page, name: string, input: unknown, timeoutMs = 30_000): Promise<void> {
  await page.getByRole('button', { name: 'More Actions' }).click();
  await page.getByRole('menuitem', { name: 'Send an Update' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByTestId('update-select-button').click();
  await dialog.getByRole('option', { name, exact: true }).click();
  const data = dialog.getByRole('textbox', { name: 'Data' });
  await data.fill(JSON.stringify(input));
  // The editor pretty-prints its JSON on blur and grows, which moves Submit: blur first, or a click aimed at
  // Submit lands on the footer once the layout shifts between mouse down and up, and nothing is sent.
  await data.blur();
  await dialog.getByRole('button', { name: 'Submit' }).click();
  // Success closes the dialog; a refusal (the workflow's validator) stays in it as an alert titled with the reason.
  const deadline = Date.now() + timeoutMs;
  while (await dialog.isVisible()) {
    const alerts = (await dialog.getByRole('alert').allInnerTexts()).map((t) => t.trim()).filter((t) => t && !t.startsWith('In Progress'));
    if (alerts.length > 0) throw new Error(`the UI did not send the ${name} update: ${alerts.join(' / ').replace(/\s+/g, ' ')}`);
    if (Date.now() > deadline) throw new Error(`the ${name} update dialog is still open after ${timeoutMs} ms`);
    await page.waitForTimeout(200);
  }
}
