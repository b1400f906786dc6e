// topology.svg: the model drawn by Graphviz, with the shared light/dark palette.
import { renderDot } from '../graphviz.ts';
import { withTheme } from '../theme.ts';
import { topologyDot } from './dot.ts';
import type { TopologyModel } from './model.ts';

export async function topologySvg(model: TopologyModel): Promise<string> {
  return withTheme(await renderDot(topologyDot(model)), model.title);
}
