/**
 * Just enough of the Prometheus text exposition format (0.0.4) to read etcd's histograms, and
 * `histogram_quantile` with Prometheus' own interpolation rules, so a p99 here matches a p99 on a dashboard.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class ExpositionError extends Error {
  override name = 'ExpositionError';
}

function parseValue(raw: string, line: number): number {
  switch (raw) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
  }
  const v = Number(raw);
  if (raw === '' || Number.isNaN(v)) throw new ExpositionError(`line ${line}: bad sample value ${JSON.stringify(raw)}`);
  return v;
}

/** Parses `{a="x",b="y\"z"}` starting at `text[i] === '{'`; returns the labels and the index after `}`. */
function parseLabels(text: string, start: number, line: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (text[i] === '}') return [labels, i + 1];
    const nameMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    if (!nameMatch) throw new ExpositionError(`line ${line}: bad label name`);
    const name = nameMatch[0];
    i += name.length;
    while (text[i] === ' ') i++;
    if (text[i] !== '=' || text[i + 1] !== '"') throw new ExpositionError(`line ${line}: expected ="…" after label ${name}`);
    i += 2;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new ExpositionError(`line ${line}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const n = text[i + 1];
        value += n === 'n' ? '\n' : (n ?? '');
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    labels[name] = value;
    i++;
  }
}

export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (!line || line.startsWith('#')) continue;
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameMatch) throw new ExpositionError(`line ${n + 1}: bad metric name`);
    const name = nameMatch[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') [labels, i] = parseLabels(line, i, n + 1);
    // value, then an optional timestamp we do not need
    const [raw = ''] = line.slice(i).trim().split(/\s+/);
    out.push({ name, labels, value: parseValue(raw, n + 1) });
  }
  return out;
}

export interface Histogram {
  /** cumulative counts by upper bound, ascending, ending with +Inf */
  buckets: Array<{ le: number; count: number }>;
  sum: number;
  count: number;
}

/**
 * Groups `<name>_bucket/_sum/_count` samples by one label (e.g. etcd's `To`), or into the single key '' when
 * `byLabel` is undefined.
 */
export function histograms(samples: Sample[], name: string, byLabel?: string): Map<string, Histogram> {
  const out = new Map<string, Histogram>();
  const get = (key: string) => {
    let h = out.get(key);
    if (!h) out.set(key, (h = { buckets: [], sum: 0, count: 0 }));
    return h;
  };
  for (const s of samples) {
    const key = byLabel ? s.labels[byLabel] : '';
    if (key === undefined) continue;
    if (s.name === `${name}_bucket`) {
      const le = s.labels.le;
      if (le === undefined) continue;
      get(key).buckets.push({ le: parseValue(le, 0), count: s.value });
    } else if (s.name === `${name}_sum`) get(key).sum = s.value;
    else if (s.name === `${name}_count`) get(key).count = s.value;
  }
  for (const h of out.values()) h.buckets.sort((a, b) => a.le - b.le);
  return out;
}

/** later − earlier, bucket by bucket; undefined when a counter went down (the process restarted in between). */
export function histogramDelta(earlier: Histogram, later: Histogram): Histogram | undefined {
  const before = new Map(earlier.buckets.map((b) => [b.le, b.count]));
  const buckets = later.buckets.map((b) => ({ le: b.le, count: b.count - (before.get(b.le) ?? 0) }));
  if (buckets.some((b) => b.count < 0) || later.count < earlier.count) return undefined;
  return { buckets, sum: later.sum - earlier.sum, count: later.count - earlier.count };
}

/**
 * Prometheus `histogram_quantile(q, …)`: find the bucket holding rank q·total and interpolate linearly inside it
 * (lower bound 0 for the first bucket); a rank in the +Inf bucket returns the highest finite bound.
 * NaN when there are no observations.
 */
export function histogramQuantile(q: number, h: Histogram): number {
  const buckets = h.buckets;
  if (buckets.length < 2 || buckets[buckets.length - 1]!.le !== Infinity) return NaN;
  const total = buckets[buckets.length - 1]!.count;
  if (total <= 0) return NaN;
  if (q <= 0) return -Infinity;
  if (q >= 1) return Infinity;
  const rank = q * total;
  const idx = buckets.findIndex((b) => b.count >= rank);
  if (idx === buckets.length - 1) return buckets[buckets.length - 2]!.le;
  const upper = buckets[idx]!;
  if (idx === 0 && upper.le <= 0) return upper.le;
  const lowerBound = idx === 0 ? 0 : buckets[idx - 1]!.le;
  const lowerCount = idx === 0 ? 0 : buckets[idx - 1]!.count;
  const inBucket = upper.count - lowerCount;
  if (inBucket <= 0) return upper.le;
  return lowerBound + (upper.le - lowerBound) * ((rank - lowerCount) / inBucket);
}
