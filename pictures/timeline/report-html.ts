// report.html: one self-contained page (no script, no external file) that opens from disk: the timeline picture
// inline, then the audit, the pauses with their reasons and hints, and the activity calls per step.
import { DARK, escapeXml as esc, LIGHT } from '../theme.ts';
import type { TimelineModel } from './model.ts';
import { duration } from './svg.ts';

const CSS = `
:root{color-scheme:light dark;--bg:${LIGHT.bg};--fg:${LIGHT.fg};--muted:${LIGHT.muted};--border:${LIGHT.border};--panel:${LIGHT.panel};--warn:${LIGHT.warn};--fail:${LIGHT.fail};--ok:${LIGHT.ok}}
@media (prefers-color-scheme: dark){:root{--bg:${DARK.bg};--fg:${DARK.fg};--muted:${DARK.muted};--border:${DARK.border};--panel:${DARK.panel};--warn:${DARK.warn};--fail:${DARK.fail};--ok:${DARK.ok}}}
body{margin:24px;background:var(--bg);color:var(--fg);font:14px/1.45 Helvetica,Arial,'Liberation Sans','DejaVu Sans',sans-serif}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--border);padding-bottom:4px}
.muted{color:var(--muted)}.warn{color:var(--warn)}.fail{color:var(--fail)}.ok{color:var(--ok)}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid var(--border);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--panel)}code{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:12px}
.picture{overflow-x:auto;border:1px solid var(--border);border-radius:6px}.picture svg{display:block;max-width:none}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px}dt{color:var(--muted)}dd{margin:0}
`;

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '<p class="muted">none</p>';
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

const when = (m: TimelineModel, t: number) =>
  `${new Date(m.startedAt + t)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')} <span class="muted">(+${duration(t)})</span>`;

export function reportHtml(m: TimelineModel, svg: string): string {
  const inline = svg.replace(/^<\?xml[^>]*>\s*/, '');
  const summary: Array<[string, string]> = [
    [
      'state',
      `<b class="${m.state === 'completed' ? 'ok' : m.state === 'paused' || m.state === 'running' ? 'warn' : 'fail'}">${esc(m.state)}</b>${m.open ? ' (still running: this report shows it so far)' : ''}`,
    ],
    ['workflow', `<code>${esc(m.workflowId)}</code>`],
    ['revision', `<code>${esc(m.revision)}</code>${m.amendedTo.length ? ` → ${m.amendedTo.map((r) => `<code>${esc(r)}</code>`).join(' → ')} (amended)` : ''}`],
    ['started', `${when(m, 0)} by ${esc(m.startedBy.by)} via ${esc(m.startedBy.via)}`],
    ['took', duration(m.durationMs)],
    ['critical path', `${duration(m.critical.durationMs)}: ${esc(m.critical.path.join(' → '))}`],
    ...(m.error ? ([['error', `<span class="fail">${esc(m.error)}</span>`]] as Array<[string, string]>) : []),
  ];
  const audit = m.actions.map((a) => [
    when(m, a.at),
    esc(a.by),
    esc(a.via),
    `<b>${esc(a.action)}</b>`,
    esc(a.lane === 'mesh' ? 'rollout' : a.lane),
    esc(a.step ?? ''),
    esc(a.reason ?? ''),
    a.revision ? `<code>${esc(a.revision)}</code>` : '',
  ]);
  const pauses = m.pauses.map((p) => [
    esc(`${p.lane}/${p.step}`),
    when(m, p.from),
    p.to === undefined ? '<b class="warn">still paused</b>' : duration(p.to - p.from),
    String(p.rechecks),
    esc(p.endedBy),
    p.reasons.map((r) => `<div><b>${esc(r.reason)}</b><br><span class="muted">hint:</span> ${esc(r.hint)}</div>`).join(''),
  ]);
  const steps = m.lanes.flatMap((l) =>
    l.bars.map((b) => [
      esc(l.name),
      `<b>${esc(b.step)}</b><br><span class="muted">${esc(b.title)}</span>`,
      `<span class="${b.state === 'done' ? 'ok' : b.state === 'failed' || b.state === 'aborted' ? 'fail' : 'warn'}">${esc(b.state)}</span>${b.critical ? ' <span class="muted">(critical)</span>' : ''}`,
      `+${duration(b.from)}`,
      duration(b.to - b.from),
      b.pauses.length ? duration(b.pauses.reduce((s, p) => s + (p.to ?? b.to) - p.from, 0)) : '',
      `${b.calls} / ${b.attempts}`,
      esc(
        Object.entries(b.byActivity)
          .map(([a, n]) => `${a} ×${n}`)
          .join(', '),
      ),
      esc(b.note ?? ''),
    ]),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`Rollout ${m.mesh} — ${m.workflowId}`)}</title><style>${CSS}</style></head>
<body>
<h1>Rollout ${esc(m.mesh)}: ${esc(m.state)}</h1>
<p class="muted">Generated from the workflow histories by <code>meshpilot report ${esc(m.workflowId)}</code>.</p>
<dl>${summary.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>
<h2>Timeline</h2>
<p class="muted">One lane per cluster and one for the mesh; hover a bar, a hatched pause or an action for its details.</p>
<div class="picture">${inline}</div>
<h2>Audit: operator actions</h2>
${table(['at', 'who', 'via', 'action', 'on', 'step', 'why', 'revision'], audit)}
<p class="muted">${m.actions.length} accepted action(s); refused ones change nothing and are not recorded.</p>
<h2>Pauses</h2>
${table(['step', 'since', 'paused for', 're-checks', 'ended', 'reasons and hints'], pauses)}
<h2>Steps and activity calls</h2>
<p class="muted">calls = activities the step scheduled (one tool-facing call each: talosctl, helm, kubectl, cilium, a BMC), attempts = with Temporal's retries.</p>
${table(['lane', 'step', 'state', 'start', 'took', 'paused', 'calls / attempts', 'by activity', 'note'], steps)}
</body></html>
`;
}
