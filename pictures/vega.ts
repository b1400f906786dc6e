// Vega-Lite charts rendered to SVG in Node: compiled to Vega, drawn by Vega's headless SVG renderer (no browser,
// no canvas), with the shared palette so the dark-mode stylesheet applies.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { LIGHT, withTheme } from './theme.ts';

const FONT = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif";

/** Axis, legend and title colours from the palette (the stylesheet maps them to their dark twins). */
export const VEGA_CONFIG = {
  background: LIGHT.bg,
  font: FONT,
  title: { color: LIGHT.fg, subtitleColor: LIGHT.muted, fontSize: 15, anchor: 'start' },
  axis: { labelColor: LIGHT.muted, titleColor: LIGHT.fg, domainColor: LIGHT.border, tickColor: LIGHT.border, gridColor: LIGHT.border, labelFontSize: 11, titleFontSize: 12 },
  legend: { labelColor: LIGHT.fg, titleColor: LIGHT.fg, labelFontSize: 11, titleFontSize: 12 },
  view: { stroke: LIGHT.border },
} as const;

export async function vegaLiteSvg(spec: TopLevelSpec, title: string): Promise<string> {
  const vega = compile({ ...spec, config: { ...VEGA_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new View(parse(vega), { renderer: 'none' });
  try {
    return withTheme(await view.toSVG(), title);
  } finally {
    view.finalize();
  }
}
