// The benchmark's charts, beside its table in bench/README.md: wall time against mesh size for meshpilot, the
// seed's runbook as a sequential script and the critical path of tool time; and each as a ratio to the critical
// path, with the target. Drawn from a BenchResult (a fresh run, or bench/results/latest.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { LIGHT } from '../pictures/theme.ts';
import { vegaLiteSvg } from '../pictures/vega.ts';
import type { BenchResult } from './report.ts';

/** The README links these names, relative to bench/. */
export const CHART_FILES = { wallTime: 'charts/wall-time.svg', ratio: 'charts/ratio-to-critical-path.svg' } as const;

export const CRITICAL_PATH_TARGET = 1.15;

const SERIES = ['meshpilot', 'runbook script (sequential)', 'critical path of tool time'] as const;
const COLORS = [LIGHT.mesh, LIGHT.policy, LIGHT.ok];

function subtitle(r: BenchResult): string {
  return `${r.at.slice(0, 10)} · ${r.machine.cores} cores · ${r.toolLatencyMs} ms per simulated tool call · one run, side by side`;
}

export function wallTimeSpec(r: BenchResult): TopLevelSpec {
  const values = r.rows.flatMap(({ meshpilot: m, runbook: b }) => [
    { clusters: m.clusters, series: SERIES[0], seconds: m.wallMs / 1000 },
    { clusters: m.clusters, series: SERIES[1], seconds: b.wallMs / 1000 },
    { clusters: m.clusters, series: SERIES[2], seconds: m.critical.totalMs / 1000 },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Wall time of a rollout against mesh size', subtitle: subtitle(r) },
    width: 520,
    height: 300,
    data: { values },
    mark: { type: 'line', point: { size: 60, filled: true }, strokeWidth: 2.5 },
    encoding: {
      x: { field: 'clusters', type: 'ordinal', title: 'clusters in the mesh', axis: { labelAngle: 0 } },
      y: { field: 'seconds', type: 'quantitative', title: 'wall time (s)' },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: { domain: [...SERIES], range: COLORS },
        legend: { orient: 'top-left', direction: 'vertical', fillColor: LIGHT.bg, strokeColor: LIGHT.border, padding: 6, labelLimit: 320 },
      },
    },
  };
}

export function ratioSpec(r: BenchResult): TopLevelSpec {
  const values = r.rows.flatMap(({ meshpilot: m, runbook: b }) => [
    { clusters: m.clusters, series: SERIES[0], ratio: m.wallMs / m.critical.totalMs },
    { clusters: m.clusters, series: SERIES[1], ratio: b.wallMs / m.critical.totalMs },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Wall time as a ratio to the critical path (1× = no overhead)', subtitle: subtitle(r) },
    width: 520,
    height: 300,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: { size: 60, filled: true }, strokeWidth: 2.5 },
        encoding: {
          x: { field: 'clusters', type: 'ordinal', title: 'clusters in the mesh', axis: { labelAngle: 0 } },
          y: {
            field: 'ratio',
            type: 'quantitative',
            title: 'wall time / critical path',
            scale: { type: 'log', domain: [0.8, Math.max(2, ...values.map((v) => v.ratio * 1.2))], nice: false },
            axis: { format: '.2~f' },
          },
          color: {
            field: 'series',
            type: 'nominal',
            title: null,
            scale: { domain: [SERIES[0], SERIES[1]], range: COLORS.slice(0, 2) },
            legend: { orient: 'top-left', fillColor: LIGHT.bg, strokeColor: LIGHT.border, padding: 6, labelLimit: 320 },
          },
        },
      },
      {
        data: { values: [{ target: CRITICAL_PATH_TARGET, label: `target ≤ ${CRITICAL_PATH_TARGET}× (meshpilot)` }] },
        layer: [
          { mark: { type: 'rule', color: LIGHT.fail, strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { y: { field: 'target', type: 'quantitative' } } },
          { mark: { type: 'text', color: LIGHT.fail, align: 'right', dy: -7, x: 'width' }, encoding: { y: { field: 'target', type: 'quantitative' }, text: { field: 'label' } } },
        ],
      },
    ],
  };
}

export async function benchCharts(r: BenchResult): Promise<Record<(typeof CHART_FILES)[keyof typeof CHART_FILES], string>> {
  return {
    [CHART_FILES.wallTime]: await vegaLiteSvg(wallTimeSpec(r), 'meshpilot benchmark: wall time against mesh size'),
    [CHART_FILES.ratio]: await vegaLiteSvg(ratioSpec(r), 'meshpilot benchmark: wall time as a ratio to the critical path'),
  } as Record<(typeof CHART_FILES)[keyof typeof CHART_FILES], string>;
}

/** Writes the charts under `benchDir` (bench/): the README embeds them by these relative paths. */
export async function writeBenchCharts(r: BenchResult, benchDir: string): Promise<string[]> {
  const charts = await benchCharts(r);
  for (const [file, svg] of Object.entries(charts)) {
    mkdirSync(path.dirname(path.join(benchDir, file)), { recursive: true });
    writeFileSync(path.join(benchDir, file), svg);
  }
  return Object.keys(charts);
}
