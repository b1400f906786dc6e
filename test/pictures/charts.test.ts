// The benchmark charts from the committed figures: titles, legends, every mesh size and series, the target line;
// rendered by Vega in Node (no browser), then opened in Chromium; bench/README.md embeds exactly these files.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CHART_FILES, writeBenchCharts } from '../../bench/charts.ts';
import { renderReadme } from '../../bench/readme.ts';
import type { BenchResult } from '../../bench/report.ts';
import { projectRoot } from '../../config/env.ts';
import { launchChromium, type HeadlessBrowser } from '../ui/browser.ts';
import { assertRenders } from './browser-check.ts';
import { svgText } from './svg-text.ts';

const latest = JSON.parse(readFileSync(path.join(projectRoot, 'bench', 'results', 'latest.json'), 'utf8')) as BenchResult;

describe('benchmark charts', () => {
  let browser: HeadlessBrowser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test('wall time and ratio charts from bench/results/latest.json: titles, legends, every size and series, the target', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-charts-'));
    const written = await writeBenchCharts(latest, dir);
    assert.deepEqual(written.sort(), Object.values(CHART_FILES).sort());
    const wall = svgText(readFileSync(path.join(dir, CHART_FILES.wallTime), 'utf8'));
    const ratio = svgText(readFileSync(path.join(dir, CHART_FILES.ratio), 'utf8'));
    assert.match(wall, /Wall time of a rollout against mesh size/);
    assert.match(ratio, /Wall time as a ratio to the critical path/);
    for (const series of ['meshpilot', 'runbook script (sequential)', 'critical path of tool time']) assert.ok(wall.includes(series), `legend: ${series}`);
    for (const series of ['meshpilot', 'runbook script (sequential)']) assert.ok(ratio.includes(series), `legend: ${series}`);
    assert.match(ratio, /target ≤ 1\.15×/);
    for (const { meshpilot } of latest.rows) assert.ok(new RegExp(`\\b${meshpilot.clusters}\\b`).test(wall), `${meshpilot.clusters} clusters on the axis`);
    // one point per size and series, with its value (Vega describes every mark for screen readers)
    const wallSvg = readFileSync(path.join(dir, CHART_FILES.wallTime), 'utf8');
    for (const { meshpilot: m, runbook: b } of latest.rows) {
      for (const [series, ms] of [
        ['meshpilot', m.wallMs],
        ['runbook script (sequential)', b.wallMs],
        ['critical path of tool time', m.critical.totalMs],
      ] as const) {
        const label = `clusters in the mesh: ${m.clusters}; wall time (s): ${ms / 1000}; series: ${series}`;
        assert.ok(wallSvg.includes(`aria-label="${label}"`), `a point: ${label}`);
      }
    }
    for (const file of Object.values(CHART_FILES)) await assertRenders(browser, path.join(dir, file), `bench-${path.basename(file, '.svg')}`);
  });

  test('bench/README.md embeds the committed charts, and they are the ones latest.json draws', async () => {
    // the capacity section is kept from the committed file (npm run bench -- --capacity owns it)
    const committedReadme = readFileSync(path.join(projectRoot, 'bench', 'README.md'), 'utf8');
    const readme = renderReadme(latest, committedReadme);
    for (const file of Object.values(CHART_FILES)) {
      assert.ok(readme.includes(`](${file})`), `README embeds ${file}`);
      const committed = readFileSync(path.join(projectRoot, 'bench', file), 'utf8');
      const dir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-charts-'));
      await writeBenchCharts(latest, dir);
      assert.equal(committed, readFileSync(path.join(dir, file), 'utf8'), `bench/${file} is stale: run npm run bench -- --charts-only`);
    }
    assert.equal(committedReadme, readme, 'bench/README.md is what renderReadme writes for latest.json');
  });
});
