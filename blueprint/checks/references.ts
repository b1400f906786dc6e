// Names that point at other parts of the blueprint must resolve, and manifests must not collide.
import type { Blueprint } from '../schema.ts';
import type { IssueSink } from '../issues.ts';

export function checkReferences(bp: Blueprint, sink: IssueSink): void {
  const clusters = new Set(bp.clusters.map((c) => c.name));
  const known = `known clusters: ${[...clusters].join(', ')}`;
  const unique = (kind: string, list: Array<{ name: string; namespace: string }>, field: string) => {
    const seen = new Set<string>();
    list.forEach((item, i) => {
      const key = `${item.namespace}/${item.name}`;
      if (seen.has(key)) sink.error([field, i, 'name'], `${kind} ${key} is defined twice`);
      seen.add(key);
    });
  };
  bp.globalServices.forEach((s, i) =>
    s.clusters?.forEach((name, j) => {
      if (!clusters.has(name)) sink.error(['globalServices', i, 'clusters', j], `no cluster named ${name} (${known})`);
    }),
  );
  bp.policies.forEach((p, i) => {
    p.clusters?.forEach((name, j) => {
      if (!clusters.has(name)) sink.error(['policies', i, 'clusters', j], `no cluster named ${name} (${known})`);
    });
    p.allowFrom.forEach((src, j) => {
      if (src.cluster !== undefined && !clusters.has(src.cluster)) {
        sink.error(['policies', i, 'allowFrom', j, 'cluster'], `no cluster named ${src.cluster} (${known})`);
      }
    });
  });
  unique('global service', bp.globalServices, 'globalServices');
  unique('policy', bp.policies, 'policies');
}
