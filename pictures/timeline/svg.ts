// timeline.svg: lanes × elapsed time, drawn from the model. A Gantt of a dozen bars per lane needs no layout
// engine: one linear scale and fixed lane heights. Every bar, pause and action carries a <title> (the hover text).
import { escapeXml, LIGHT, withTheme } from '../theme.ts';
import type { ActionMark, BarState, Lane, Pause, StepBar, TimelineModel } from './model.ts';

const W = 1280;
const LEFT = 200;
const RIGHT = 36;
const TOP = 96;
const LANE_H = 66;
const BAR_Y = 30;
const BAR_H = 24;
const FONT = `font-family="Helvetica,Arial,'Liberation Sans','DejaVu Sans',sans-serif"`;

export const BAR_COLOR: Record<BarState, string> = {
  done: LIGHT.running,
  running: LIGHT.running,
  paused: LIGHT.paused,
  skipped: LIGHT.skipped,
  overridden: LIGHT.warn,
  failed: LIGHT.fail,
  aborted: LIGHT.fail,
};

const ACTION_COLOR: Record<string, string> = { resume: LIGHT.ok, amend: LIGHT.service, skip: LIGHT.skipped, override: LIGHT.warn, abort: LIGHT.fail };

/** 950 ms → 0.9s, 75 s → 1m 15s, 2 h → 2h 00m. */
export function duration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.round(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A tick step giving 5–12 ticks over the span. */
function tickStep(spanMs: number): number {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map((s) => s * 1000);
  return steps.find((s) => spanMs / s <= 12) ?? 86_400_000 * Math.ceil(spanMs / 86_400_000 / 12);
}

const text = (x: number, y: number, body: string, attrs = '') => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT} ${attrs}>${escapeXml(body)}</text>`;

function barTitle(b: StepBar): string {
  const lines = [
    `${b.lane} / ${b.step}: ${b.state} — ${b.title}`,
    `${duration(b.from)} → ${duration(b.to)} (${duration(b.to - b.from)})`,
    `${b.calls} activity call(s), ${b.attempts} attempt(s): ${
      Object.entries(b.byActivity)
        .map(([a, n]) => `${a} ×${n}`)
        .join(', ') || 'none'
    }`,
    ...(b.note ? [b.note] : []),
    ...b.pauses.map((p) => `paused ${duration((p.to ?? b.to) - p.from)}: ${p.reasons.at(-1)?.reason ?? ''}`),
    ...(b.critical ? ['on the critical path'] : []),
  ];
  return lines.join('\n');
}

export function pauseTitle(p: Pause): string {
  return [
    `${p.lane} / ${p.step} paused ${p.to === undefined ? '(still paused)' : `for ${duration(p.to - p.from)}`}, ${p.rechecks} re-check(s); ended: ${p.endedBy}`,
    ...p.reasons.flatMap((r) => [`reason: ${r.reason}`, `hint: ${r.hint}`]),
  ].join('\n');
}

export function actionText(a: ActionMark): string {
  return `${a.action}${a.step ? ` ${a.step}` : ''} by ${a.by} via ${a.via}${a.reason ? `: ${a.reason}` : ''}${a.revision ? ` (revision ${a.revision})` : ''}`;
}

export function timelineSvg(m: TimelineModel): string {
  const span = Math.max(m.durationMs, 1000);
  const plotW = W - LEFT - RIGHT;
  const x = (t: number) => LEFT + (Math.min(Math.max(t, 0), span) / span) * plotW;
  const height = TOP + m.lanes.length * LANE_H + 70;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" role="img">`,
    `<defs><pattern id="paused-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="${LIGHT.paused}"/><line x1="0" y1="0" x2="0" y2="6" stroke="${LIGHT.warn}" stroke-width="2"/></pattern></defs>`,
    `<rect x="0" y="0" width="${W}" height="${height}" fill="${LIGHT.bg}"/>`,
  );
  const amended = m.amendedTo.length ? ` → ${m.amendedTo.join(' → ')} (amended)` : '';
  out.push(
    text(20, 30, `Rollout ${m.mesh}: ${m.state}${m.open ? ' (so far)' : ''} in ${duration(m.durationMs)}`, `font-size="20" font-weight="bold" fill="${LIGHT.fg}"`),
    text(
      20,
      52,
      `${m.workflowId} · revision ${m.revision}${amended} · started by ${m.startedBy.by} via ${m.startedBy.via} · ${m.pauses.length} pause(s), ${m.actions.length} operator action(s)`,
      `font-size="12" fill="${LIGHT.muted}"`,
    ),
    text(20, 70, `critical path ${duration(m.critical.durationMs)}: ${m.critical.path.join(' → ')}`, `font-size="12" fill="${LIGHT.critical}"`),
  );

  // time axis (elapsed since the rollout started)
  const step = tickStep(span);
  for (let t = 0; t <= span; t += step) {
    out.push(`<line x1="${x(t).toFixed(1)}" y1="${TOP - 8}" x2="${x(t).toFixed(1)}" y2="${TOP + m.lanes.length * LANE_H}" stroke="${LIGHT.border}" stroke-width="1"/>`);
    out.push(text(x(t), TOP - 12, duration(t), `font-size="11" text-anchor="middle" fill="${LIGHT.muted}"`));
  }

  m.lanes.forEach((lane, i) => out.push(laneSvg(lane, TOP + i * LANE_H, x)));

  // rollout-wide actions (amend, abort) cross every lane
  for (const a of m.actions.filter((x) => x.lane === 'mesh')) {
    out.push(
      `<line x1="${x(a.at).toFixed(1)}" y1="${TOP}" x2="${x(a.at).toFixed(1)}" y2="${TOP + m.lanes.length * LANE_H}" stroke="${ACTION_COLOR[a.action] ?? LIGHT.fg}" stroke-width="1.5" stroke-dasharray="4 3"><title>${escapeXml(actionText(a))}</title></line>`,
    );
  }
  m.lanes.forEach((lane, i) => {
    for (const a of m.actions.filter((x) => x.lane === lane.name)) out.push(actionSvg(a, x(a.at), TOP + i * LANE_H));
  });

  out.push(legendSvg(TOP + m.lanes.length * LANE_H + 28));
  out.push('</svg>');
  return withTheme(out.join('\n'), `Rollout ${m.mesh} timeline (${m.workflowId})`);
}

function laneSvg(lane: Lane, y: number, x: (t: number) => number): string {
  const out = [`<g class="lane" data-lane="${escapeXml(lane.name)}">`];
  out.push(`<line x1="20" y1="${y + LANE_H}" x2="${W - RIGHT}" y2="${y + LANE_H}" stroke="${LIGHT.border}" stroke-width="1"/>`);
  out.push(text(20, y + BAR_Y + 11, lane.name, `font-size="14" font-weight="bold" fill="${LIGHT.fg}"`));
  out.push(
    text(
      20,
      y + BAR_Y + 27,
      `${lane.state}${lane.runs > 1 ? ` · ${lane.runs} runs` : ''}`,
      `font-size="11" fill="${lane.state === 'completed' ? LIGHT.ok : lane.state === 'paused' ? LIGHT.warn : lane.state === 'running' ? LIGHT.muted : LIGHT.fail}"`,
    ),
  );
  for (const b of lane.bars) {
    const x0 = x(b.from);
    const w = Math.max(x(b.to) - x0, 2);
    const by = y + BAR_Y;
    out.push(`<g class="step" data-lane="${escapeXml(lane.name)}" data-step="${escapeXml(b.step)}" data-state="${b.state}"${b.critical ? ' data-critical="true"' : ''}>`);
    out.push(`<title>${escapeXml(barTitle(b))}</title>`);
    out.push(
      `<rect x="${x0.toFixed(1)}" y="${by}" width="${w.toFixed(1)}" height="${BAR_H}" rx="3" fill="${BAR_COLOR[b.state]}" stroke="${b.critical ? LIGHT.critical : LIGHT.bg}" stroke-width="${b.critical ? 2.5 : 1}"/>`,
    );
    for (const p of b.pauses) {
      const px = x(p.from);
      const pw = Math.max(x(p.to ?? b.to) - px, 2);
      out.push(
        `<rect class="pause" x="${px.toFixed(1)}" y="${by + 3}" width="${pw.toFixed(1)}" height="${BAR_H - 6}" fill="url(#paused-hatch)" stroke="${LIGHT.warn}" stroke-width="1"><title>${escapeXml(pauseTitle(p))}</title></rect>`,
      );
    }
    const mark = b.state === 'skipped' ? '↷ ' : b.state === 'overridden' ? '⚠ ' : b.state === 'failed' || b.state === 'aborted' ? '✖ ' : '';
    const label = `${mark}${b.step}`;
    if (w >= label.length * 6.4 + 8) out.push(text(x0 + 4, by + 16, label, `font-size="11" fill="${LIGHT.fg}"`));
    else if (mark) out.push(text(x0 + w + 2, by + 16, mark.trim(), `font-size="11" fill="${BAR_COLOR[b.state]}"`));
    out.push('</g>');
  }
  out.push('</g>');
  return out.join('\n');
}

function actionSvg(a: ActionMark, ax: number, laneY: number): string {
  const color = ACTION_COLOR[a.action] ?? LIGHT.fg;
  const y = laneY + 6;
  const label = `${a.action} (${a.by})`;
  // near the right edge the label goes to the left of its marker
  const right = ax + 8 + label.length * 6.6 < W - 4;
  return [
    `<g class="action" data-lane="${escapeXml(a.lane)}" data-action="${escapeXml(a.action)}" data-by="${escapeXml(a.by)}">`,
    `<title>${escapeXml(actionText(a))}</title>`,
    `<path d="M ${(ax - 6).toFixed(1)} ${y} L ${(ax + 6).toFixed(1)} ${y} L ${ax.toFixed(1)} ${y + 10} Z" fill="${color}" stroke="${LIGHT.bg}" stroke-width="1"/>`,
    text(right ? ax + 8 : ax - 8, y + 9, label, `font-size="11" font-weight="bold" fill="${color}"${right ? '' : ' text-anchor="end"'}`),
    '</g>',
  ].join('\n');
}

function legendSvg(y: number): string {
  const items: Array<[string, string, string?]> = [
    [LIGHT.running, 'step (done or running)'],
    ['url(#paused-hatch)', 'paused (hover: reason and hint)', LIGHT.warn],
    [LIGHT.skipped, 'skipped'],
    [LIGHT.warn, 'overridden'],
    [LIGHT.fail, 'failed or aborted'],
  ];
  const out = [`<g class="legend">`, text(20, y + 12, 'Legend', `font-size="12" font-weight="bold" fill="${LIGHT.fg}"`)];
  let x = 80;
  for (const [fill, label, stroke] of items) {
    out.push(`<rect x="${x}" y="${y}" width="22" height="14" rx="2" fill="${fill}"${stroke ? ` stroke="${stroke}"` : ''}/>`, text(x + 28, y + 11, label, `font-size="11" fill="${LIGHT.fg}"`));
    x += 40 + label.length * 6.2;
  }
  out.push(
    `<rect x="${x}" y="${y}" width="22" height="14" rx="2" fill="${LIGHT.bg}" stroke="${LIGHT.critical}" stroke-width="2.5"/>`,
    text(x + 28, y + 11, 'critical path', `font-size="11" fill="${LIGHT.fg}"`),
  );
  x += 40 + 13 * 6.2;
  out.push(`<path d="M ${x} ${y} L ${x + 12} ${y} L ${x + 6} ${y + 10} Z" fill="${LIGHT.service}"/>`, text(x + 16, y + 11, 'operator action (who, why on hover)', `font-size="11" fill="${LIGHT.fg}"`));
  out.push('</g>');
  return out.join('\n');
}
