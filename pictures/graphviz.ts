// Graphviz, compiled to WebAssembly and shipped inside the npm package (@viz-js/viz): no system package, nothing
// downloaded at run time. Loaded on first use (the module embeds the WASM binary: every CLI command would pay for
// it otherwise), one instance per process.
import type { Viz } from '@viz-js/viz';

let viz: Promise<Viz> | undefined;

/** Lays out and draws DOT as SVG with the `dot` engine; a DOT error is thrown with Graphviz's own message. */
export async function renderDot(dot: string): Promise<string> {
  viz ??= import('@viz-js/viz').then((m) => m.instance());
  const result = (await viz).render(dot, { format: 'svg', engine: 'dot' });
  if (result.status !== 'success') {
    throw new Error(`graphviz: ${result.errors.map((e) => e.message).join('; ') || 'rendering failed'}`);
  }
  return withFontFallbacks(result.output);
}

/**
 * Graphviz sizes text with its own metrics of Helvetica and Courier, which only those exact names select; the
 * drawn SVG then lists metric-compatible fallbacks so viewers without those fonts keep the same widths.
 */
function withFontFallbacks(svg: string): string {
  return svg
    .replace(/font-family="Courier(,monospace)?"/g, `font-family="Courier,'Courier New','DejaVu Sans Mono',Menlo,Consolas,monospace"`)
    .replace(/font-family="Helvetica(,sans-Serif)?"/g, `font-family="Helvetica,Arial,'Liberation Sans','DejaVu Sans',sans-serif"`);
}
