/** Helm values helpers: deep merge (helm's coalesce of -f files, right-most wins) and dotted reads. */
export type Values = Record<string, unknown>;

const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergeValues(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isMap(v) && isMap(out[k]) ? mergeValues(out[k] as Values, v) : v;
  }
  return out;
}

export function getPath(values: Values | undefined, path: string): unknown {
  let cur: unknown = values;
  for (const p of path.split('.')) {
    if (!isMap(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** `--set a.b=c` style write, used by cilium-cli's ReuseValues upgrades. */
export function setPath(values: Values, path: string, value: unknown): Values {
  const parts = path.split('.');
  const out = structuredClone(values);
  let cur: Values = out;
  for (const p of parts.slice(0, -1)) {
    if (!isMap(cur[p])) cur[p] = {};
    cur = cur[p] as Values;
  }
  cur[parts[parts.length - 1]!] = value;
  return out;
}
