// The rollout report's three files from the decoded histories: timeline.svg, report.html (the SVG inline) and
// timeline.json (the model, for tools). Pure.
import type { RolloutFacts } from './history.ts';
import { timelineModel, type TimelineModel } from './model.ts';
import { reportHtml } from './report-html.ts';
import { timelineSvg } from './svg.ts';

export interface RolloutReport {
  model: TimelineModel;
  files: { 'timeline.svg': string; 'report.html': string; 'timeline.json': string };
}

export function rolloutReport(facts: RolloutFacts): RolloutReport {
  const model = timelineModel(facts);
  const svg = timelineSvg(model);
  return { model, files: { 'timeline.svg': svg, 'report.html': reportHtml(model, svg), 'timeline.json': `${JSON.stringify(model, null, 2)}\n` } };
}
