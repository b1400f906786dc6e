/** The words an SVG shows, in document order and entities decoded (Graphviz writes "-" as &#45;, spaces as &#160;). */
export function svgText(svg: string): string {
  const decode = (s: string) =>
    s
      .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
      .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(Number.parseInt(n, 16)))
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&');
  return [...svg.matchAll(/<text\b[^>]*>([\s\S]*?)<\/text>/g)]
    .map((m) => decode(m[1]!.replace(/<[^>]+>/g, '')))
    .join(' ')
    .replace(/[\s\u00a0]+/g, ' ');
}

/** Every <title> (hover text) of an SVG, decoded. */
export function svgTitles(svg: string): string[] {
  return [...svg.matchAll(/<title>([\s\S]*?)<\/title>/g)].map((m) => svgText(`<text>${m[1]}</text>`));
}
