// The topology model as Graphviz DOT: Graphviz lays it out (no hand-placed coordinates); this file only says
// what each box, edge and note looks like. Pure.
import { LIGHT } from '../theme.ts';
import type { ClusterBox, Health, Mark, TopologyModel } from './model.ts';

// Graphviz measures text with built-in metrics found by these exact names (a list falls back to Times);
// pictures/graphviz.ts adds the fallbacks to the drawn SVG.
const FONT = 'Helvetica';
const MONO = 'Courier';

const HEALTH_COLOR: Record<Health, string> = { none: LIGHT.border, ok: LIGHT.ok, warn: LIGHT.warn, fail: LIGHT.fail };
const MARK_ICON: Record<Mark['level'], string> = { warn: '⚠', fail: '✖' };

/** Text inside an HTML-like label. */
function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A DOT double-quoted string. */
function quoted(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Breaks text into lines of at most `width` characters at spaces. */
export function wrap(text: string, width = 58): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const id = (name: string) => quoted(`cluster:${name}`);

/**
 * One line of a box: a key column and a value column, in monospace and ASCII, so the width Graphviz estimates is
 * the width every viewer draws (its estimates for proportional fonts and non-ASCII glyphs differ by font).
 */
function row(key: string, value: string, opts: { color?: string; bg?: string } = {}): string {
  const bg = opts.bg ? ` BGCOLOR="${opts.bg}"` : '';
  // an empty <FONT> crashes Graphviz's HTML-label parser: a cell without a key has no FONT at all
  const keyCell = key ? `<FONT FACE="${MONO}" COLOR="${LIGHT.muted}">${html(key)}</FONT>` : '';
  return `<TR><TD ALIGN="LEFT"${bg}>${keyCell}</TD><TD ALIGN="LEFT" BALIGN="LEFT"${bg}><FONT FACE="${MONO}" COLOR="${opts.color ?? LIGHT.fg}">${value}</FONT></TD></TR>`;
}

function markRows(marks: Mark[]): string[] {
  return marks.map((m) => row(m.level === 'fail' ? 'FAIL' : 'WARN', wrap(m.text, 52).map(html).join('<BR/>'), { color: m.level === 'fail' ? LIGHT.fail : LIGHT.warn }));
}

function clusterLabel(c: ClusterBox): string {
  const poolColor = c.lb.health === 'fail' ? LIGHT.fail : c.lb.health === 'warn' ? LIGHT.warn : LIGHT.fg;
  const rows = [
    `<TR><TD ALIGN="LEFT" COLSPAN="2"><FONT POINT-SIZE="15" COLOR="${LIGHT.fg}"><B>${html(c.name)}</B></FONT></TD></TR>`,
    row('id', html(`${c.id}, region ${c.region}, site ${c.site}`)),
    row('pods', html(c.podCidrs.join(', '))),
    row('services', html(c.serviceCidrs.join(', '))),
    row('nodes', html(c.nodeCidrs.join(', '))),
    row('', html(`${c.nodes.controlplane} control plane, ${c.nodes.worker} worker${c.nodes.worker === 1 ? '' : 's'}`)),
    row(`LB ${c.lb.mode}`, html(`${c.lb.blocks.join(', ')}${c.lb.usage ? ` (${c.lb.usage})` : ''}${c.lb.health === 'fail' ? ' EXHAUSTED' : ''}`), {
      color: poolColor,
      ...(c.lb.health === 'fail' ? { bg: LIGHT.failBg } : {}),
    }),
    row('apiserver', html(c.apiserverIP ? `${c.apiserverIP} (clustermesh, pinned)` : 'clustermesh, from the pool')),
    ...markRows(c.marks),
  ];
  return `<<TABLE BORDER="${c.health === 'none' || c.health === 'ok' ? 1 : 3}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" COLOR="${HEALTH_COLOR[c.health]}" BGCOLOR="${LIGHT.panel}" STYLE="ROUNDED">${rows.join('')}</TABLE>>`;
}

function tooltip(lines: string[]): string {
  return quoted(lines.join('\n'));
}

/** The title, the mesh-wide notes and a one-line legend, above the graph. */
function titleLabel(m: TopologyModel): string {
  const legend = legendItems(m)
    .map(
      ([color, sample, text]) =>
        `<TD><FONT FACE="${MONO}" POINT-SIZE="11" COLOR="${color}"><B>${html(sample)}</B></FONT></TD><TD ALIGN="LEFT"><FONT FACE="${MONO}" POINT-SIZE="11" COLOR="${LIGHT.muted}">${html(text)}</FONT></TD>`,
    )
    .join('<TD> </TD>');
  const rows = [
    `<TR><TD><FONT POINT-SIZE="18" COLOR="${LIGHT.fg}"><B>${html(m.title)}</B></FONT></TD></TR>`,
    `<TR><TD><FONT COLOR="${LIGHT.muted}">${html(m.subtitle)}</FONT></TD></TR>`,
    ...m.meshMarks.map(
      (x) =>
        `<TR><TD><FONT FACE="${MONO}" COLOR="${x.level === 'fail' ? LIGHT.fail : LIGHT.warn}">${x.level === 'fail' ? 'FAIL' : 'WARN'} mesh: ${wrap(x.text, 100).map(html).join('<BR/>')}</FONT></TD></TR>`,
    ),
    `<TR><TD><TABLE BORDER="0" CELLPADDING="1" CELLSPACING="0"><TR>${legend}</TR></TABLE></TD></TR>`,
  ];
  return `<<TABLE BORDER="0" CELLPADDING="2">${rows.join('')}</TABLE>>`;
}

function legendItems(m: TopologyModel): Array<[string, string, string]> {
  return [
    [LIGHT.mesh, '===', 'ClusterMesh link'],
    [LIGHT.service, '- -', 'global Service'],
    [LIGHT.policy, '-->', 'cross-cluster policy (allowed from, enforced in)'],
    [LIGHT.warn, 'WARN', m.verified ? 'warning' : 'validation warning'],
    ...(m.verified
      ? ([
          [LIGHT.fail, 'FAIL', 'failing check (red link: peer disconnected, red LB: pool exhausted)'],
          [LIGHT.ok, '[ ]', 'every check ok'],
        ] as Array<[string, string, string]>)
      : []),
  ];
}

export function topologyDot(m: TopologyModel): string {
  const lines: string[] = [
    `digraph ${quoted(m.mesh)} {`,
    `  graph [rankdir=LR, bgcolor="${LIGHT.bg}", fontname="${FONT}", labelloc=t, label=${titleLabel(m)}, pad=0.3, nodesep=0.6, ranksep=1.6, splines=true];`,
    `  node [shape=plain, fontname="${FONT}", fontsize=11, fontcolor="${LIGHT.fg}"];`,
    `  edge [fontname="${FONT}", fontsize=10, fontcolor="${LIGHT.fg}"];`,
  ];
  for (const c of m.clusters) {
    const tips = [`${c.name} (id ${c.id}, ${c.region}/${c.site})`, ...c.marks.map((x) => `${MARK_ICON[x.level]} ${x.source}: ${x.text}`)];
    lines.push(`  ${id(c.name)} [label=${clusterLabel(c)}, tooltip=${tooltip(tips)}];`);
  }
  for (const l of m.links) {
    const color = l.health === 'fail' ? LIGHT.fail : l.health === 'warn' ? LIGHT.warn : LIGHT.mesh;
    lines.push(
      `  ${id(l.a)} -> ${id(l.b)} [dir=none, color="${color}", penwidth=${l.health === 'fail' ? 4 : 3}${l.health === 'fail' ? ', style=dashed' : ''}, label=${quoted(l.label)}, fontcolor="${color}", tooltip=${quoted(`${l.a} ↔ ${l.b}: ${l.label}`)}];`,
    );
  }
  for (const s of m.services) {
    const text = [...s.services.map((x) => `global ${x}`), ...s.marks.map((x) => `${MARK_ICON[x.level]} ${x.text}`)];
    lines.push(
      `  ${id(s.a)} -> ${id(s.b)} [dir=none, style=dashed, color="${LIGHT.service}", fontcolor="${LIGHT.service}", constraint=false, label=${quoted(text.join('\n'))}, tooltip=${quoted(text.join('\n'))}];`,
    );
  }
  for (const p of m.policies) {
    const text = [`policy ${p.policy}`, p.rule, ...p.marks.map((x) => `${MARK_ICON[x.level]} ${x.text}`)];
    lines.push(
      `  ${id(p.from)} -> ${id(p.to)} [color="${LIGHT.policy}", fontcolor="${LIGHT.policy}", arrowhead=normal, constraint=false, label=${quoted(text.join('\n'))}, tooltip=${quoted(text.join('\n'))}];`,
    );
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
