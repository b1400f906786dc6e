// Opens a picture (or report.html) from disk in headless Chromium, light and dark, and proves it renders: the
// page loads without a console error, its SVG has a non-empty box, and screenshots are kept in .test-output/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../../config/env.ts';
import type { HeadlessBrowser } from '../ui/browser.ts';

export const PICTURES_OUTPUT_DIR = path.join(projectRoot, '.test-output', 'pictures');

export interface Rendered {
  width: number;
  height: number;
  /** visible text of the page (for an SVG document: every <text>) */
  text: string;
  screenshots: string[];
}

export async function assertRenders(browser: HeadlessBrowser, file: string, name: string): Promise<Rendered> {
  mkdirSync(PICTURES_OUTPUT_DIR, { recursive: true });
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  const screenshots: string[] = [];
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    // evaluated in the page (a string: this project compiles without the DOM library)
    const box = (await page.evaluate(`(() => {
      const r = document.querySelector('svg')?.getBoundingClientRect();
      const texts = [...document.querySelectorAll('text')].map((t) => t.textContent ?? '');
      return { width: r?.width ?? 0, height: r?.height ?? 0, text: document.body ? document.body.innerText : texts.join('\\n') };
    })()`)) as { width: number; height: number; text: string };
    assert.ok(box.width > 100 && box.height > 50, `${name}: the picture has no size (${box.width}×${box.height})`);
    const isSvg = file.endsWith('.svg');
    // a bare SVG document has no scrollable body to measure: the viewport takes the picture's size instead
    if (isSvg) await page.setViewportSize({ width: Math.min(Math.ceil(box.width), 4000), height: Math.min(Math.ceil(box.height), 4000) });
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const shot = path.join(PICTURES_OUTPUT_DIR, `${name}-${scheme}.png`);
      await page.screenshot({ path: shot, fullPage: !isSvg });
      screenshots.push(shot);
    }
    assert.deepEqual(errors, [], `${name}: console errors while rendering`);
    return { ...box, screenshots };
  } finally {
    await page.close();
  }
}

/** The background the viewer paints under the picture in a colour scheme (the first rect of an SVG, or the body). */
export async function backgroundIn(browser: HeadlessBrowser, file: string, scheme: 'light' | 'dark'): Promise<string> {
  const page = await browser.context.newPage();
  try {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(pathToFileURL(file).href);
    return (await page.evaluate(`(() => {
      const el = document.querySelector('svg polygon, svg rect, svg path.background');
      return el ? getComputedStyle(el).fill : getComputedStyle(document.body).backgroundColor;
    })()`)) as string;
  } finally {
    await page.close();
  }
}
