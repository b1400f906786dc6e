// Links into the Temporal Web UI, for every surface that points a person at a run.

/** The UI page of a workflow (base: the UI's URL, e.g. http://localhost:8233); undefined without a UI. */
export function uiLink(base: string | undefined, namespace: string, workflowId: string): string | undefined {
  if (!base) return undefined;
  return `${base.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
