import { stringify } from 'yaml';

/** One YAML document; plain block style so the output diffs well and reads like hand-written config. */
export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

/** Multi-document YAML, as `kubectl apply -f -` takes it. Empty string for no documents. */
export function multiDoc(docs: unknown[]): string {
  return docs.map(toYaml).join('---\n');
}
