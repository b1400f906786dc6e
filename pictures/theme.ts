// One palette for every picture, readable on light and dark viewers. Pictures are drawn with the light colours as
// plain SVG attributes (what any viewer shows); an embedded stylesheet maps each of them to its dark twin when the
// viewer prefers a dark scheme (CSS matches the attribute values, so Graphviz's and Vega's output need no classes).

export const LIGHT = {
  bg: '#ffffff',
  panel: '#f6f8fa',
  fg: '#1f2328',
  muted: '#59636e',
  border: '#d1d9e0',
  ok: '#1a7f37',
  warn: '#9a6700',
  fail: '#cf222e',
  failBg: '#ffebe9',
  mesh: '#0969da',
  service: '#8250df',
  policy: '#bc4c00',
  running: '#54aeff',
  paused: '#d4a72c',
  skipped: '#8c959f',
  critical: '#0550ae',
} as const;

export type ColorName = keyof typeof LIGHT;

export const DARK: Record<ColorName, string> = {
  bg: '#0d1117',
  panel: '#151b23',
  fg: '#e6edf3',
  muted: '#9198a1',
  border: '#3d444d',
  ok: '#3fb950',
  warn: '#d29922',
  fail: '#f85149',
  failBg: '#3c1618',
  mesh: '#4493f8',
  service: '#ab7df8',
  policy: '#f0883e',
  running: '#1f6feb',
  paused: '#9e6a03',
  skipped: '#6e7681',
  critical: '#79c0ff',
};

/** The stylesheet that turns every light colour into its dark twin under `prefers-color-scheme: dark`. */
export function darkModeCss(): string {
  const rules = (Object.keys(LIGHT) as ColorName[]).flatMap((k) => {
    const from = LIGHT[k];
    const to = DARK[k];
    return [`[fill="${from}"]{fill:${to}}`, `[stroke="${from}"]{stroke:${to}}`];
  });
  return `@media (prefers-color-scheme: dark){${rules.join('')}}`;
}

/** Adds the dark-mode stylesheet (and an accessible title) right after the root <svg …> tag. */
export function withTheme(svg: string, title: string): string {
  const open = svg.indexOf('<svg');
  const end = open < 0 ? -1 : svg.indexOf('>', open);
  if (end < 0) throw new Error('not an SVG document');
  const head = svg.slice(0, end + 1);
  const rest = svg.slice(end + 1);
  return `${head}\n<title>${escapeXml(title)}</title>\n<style>${darkModeCss()}</style>${rest}`;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
