import { isCidr } from './ip-range.ts';

/**
 * Server-side validation of the Cilium custom resources meshpilot applies, as kube-apiserver v1.32 does it with
 * the CRDs cilium-operator 1.16 registers (pkg/k8s/apis/cilium.io/client/crds/v2alpha1/*.yaml): with kubectl's
 * default `--validate=strict`, unknown fields are refused first ("strict decoding error"), then the structural
 * schema (types, enums, `format: cidr`, patterns, lengths, required keys), then defaults are applied. The
 * message texts are the apiserver's, held to it by test/conformance/lb-ipam.test.ts.
 */
type Schema =
  | { type: 'object'; properties?: Record<string, Schema>; values?: Schema; required?: string[] }
  | { type: 'array'; items: Schema }
  | { type: 'string'; enum?: string[]; format?: 'cidr'; pattern?: string; maxLength?: number }
  | { type: 'boolean' };

const labelValue: Schema = { type: 'string', maxLength: 63, pattern: '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$' };
const labelSelector: Schema = {
  type: 'object',
  properties: {
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string' },
          operator: { type: 'string', enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    matchLabels: { type: 'object', values: labelValue },
  },
};

const SCHEMAS: Record<string, { spec: Schema; defaults?: (spec: Record<string, unknown>) => void }> = {
  'cilium.io/v2alpha1/CiliumLoadBalancerIPPool': {
    spec: {
      type: 'object',
      properties: {
        allowFirstLastIPs: { type: 'string', enum: ['Yes', 'No'] },
        blocks: { type: 'array', items: { type: 'object', properties: { cidr: { type: 'string', format: 'cidr' }, start: { type: 'string' }, stop: { type: 'string' } } } },
        disabled: { type: 'boolean' },
        serviceSelector: labelSelector,
      },
    },
    defaults: (spec) => {
      spec.disabled ??= false;
    },
  },
  'cilium.io/v2alpha1/CiliumL2AnnouncementPolicy': {
    spec: {
      type: 'object',
      properties: {
        externalIPs: { type: 'boolean' },
        interfaces: { type: 'array', items: { type: 'string' } },
        loadBalancerIPs: { type: 'boolean' },
        nodeSelector: labelSelector,
        serviceSelector: labelSelector,
      },
    },
  },
};

const jsonType = (v: unknown): string =>
  Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v === 'object' ? 'object' : typeof v;
/** the Go type name kube-openapi prints when a format check meets a non-string */
const goType = (v: unknown): string => (typeof v === 'number' ? (Number.isInteger(v) ? 'int64' : 'float64') : typeof v === 'boolean' ? 'bool' : jsonType(v));

function unknownFields(v: unknown, s: Schema, path: string, out: string[]): void {
  if (s.type === 'object' && v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, child] of Object.entries(v)) {
      const p = path ? `${path}.${k}` : k;
      const sub = s.properties ? s.properties[k] : s.values;
      if (!sub) out.push(p);
      else unknownFields(child, sub, p, out);
    }
  } else if (s.type === 'array' && Array.isArray(v)) {
    v.forEach((item, i) => unknownFields(item, s.items, `${path}[${i}]`, out));
  }
}

function schemaErrors(v: unknown, s: Schema, path: string, out: string[]): void {
  if (v === null || v === undefined) return;
  const t = jsonType(v);
  if (s.type === 'string' && s.format === 'cidr') {
    if (typeof v !== 'string' || !isCidr(v))
      out.push(`${path}: Invalid value: "${typeof v === 'string' ? v : goType(v)}": ${path} in body must be of type cidr: "${typeof v === 'string' ? v : goType(v)}"`);
    return;
  }
  if (t !== s.type) {
    out.push(`${path}: Invalid value: "${t}": ${path} in body must be of type ${s.type}: "${t}"`);
    // an enum is checked on the value whatever its type (the value printed as JSON)
    if (s.type === 'string' && s.enum) out.push(`${path}: Unsupported value: ${JSON.stringify(v)}: supported values: ${s.enum.map((e) => `"${e}"`).join(', ')}`);
    return;
  }
  if (s.type === 'object') {
    const obj = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (obj[r] === undefined) out.push(`${path}.${r}: Required value`);
    for (const [k, child] of Object.entries(obj)) {
      const sub = s.properties ? s.properties[k] : s.values;
      if (sub) schemaErrors(child, sub, `${path}.${k}`, out);
    }
  } else if (s.type === 'array') {
    (v as unknown[]).forEach((item, i) => schemaErrors(item, s.items, `${path}[${i}]`, out));
  } else if (s.type === 'string') {
    const str = v as string;
    if (s.enum && !s.enum.includes(str)) out.push(`${path}: Unsupported value: "${str}": supported values: ${s.enum.map((e) => `"${e}"`).join(', ')}`);
    else if (s.maxLength !== undefined && Buffer.byteLength(str) > s.maxLength) out.push(`${path}: Too long: may not be more than ${s.maxLength} bytes`);
    else if (s.pattern && !new RegExp(s.pattern).test(str)) out.push(`${path}: Invalid value: "${str}": ${path} in body should match '${s.pattern}'`);
  }
}

export type CrdValidation = { ok: true; spec: unknown } | { ok: false; kind: 'unknown-fields'; fields: string[] } | { ok: false; kind: 'invalid'; errors: string[] };

/** Validates (and defaults) the spec of a custom resource the lab knows the schema of; others pass unchanged. */
export function validateCustomResource(apiVersion: string, kind: string, obj: { spec?: unknown }): CrdValidation {
  const schema = SCHEMAS[`${apiVersion}/${kind}`];
  if (!schema || obj.spec === undefined) return { ok: true, spec: obj.spec };
  const unknown: string[] = [];
  unknownFields(obj.spec, schema.spec, 'spec', unknown);
  if (unknown.length) return { ok: false, kind: 'unknown-fields', fields: unknown.sort() };
  const errors: string[] = [];
  schemaErrors(obj.spec, schema.spec, 'spec', errors);
  if (errors.length) return { ok: false, kind: 'invalid', errors };
  const spec = structuredClone(obj.spec) as Record<string, unknown>;
  schema.defaults?.(spec);
  return { ok: true, spec };
}

/** The apiserver's texts, as kubectl prints them for `apply` (create or update). */
export function validationMessage(v: Exclude<CrdValidation, { ok: true }>, kind: string, name: string, source: string, creating: boolean): string {
  if (v.kind === 'unknown-fields') {
    const fields = v.fields.map((f) => `unknown field "${f}"`).join(', ');
    return creating
      ? `Error from server (BadRequest): error when creating "${source}": ${kind} in version "v2alpha1" cannot be handled as a ${kind}: strict decoding error: ${fields}`
      : `The request is invalid: patch: Invalid value: "…": strict decoding error: ${fields}`;
  }
  return v.errors.length === 1 ? `The ${kind} "${name}" is invalid: ${v.errors[0]}` : `The ${kind} "${name}" is invalid: \n${v.errors.map((e) => `* ${e}`).join('\n')}`;
}
