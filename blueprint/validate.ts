// Schema first, then every semantic check, collecting all problems in one pass. Pure (workflow-safe).
import type { z } from 'zod';
import { blueprintSchema, type Blueprint } from './schema.ts';
import { formatPath, IssueSink, omittedIssue, type BlueprintIssue, type CheckReport, type RawIssue, type ValidationResult } from './issues.ts';
import { boundInput } from './input-bounds.ts';
import { MAX_REPORTED_ISSUES } from './limits.ts';
import { checkAddressing } from './checks/addressing.ts';
import { checkIdentity } from './checks/identity.ts';
import { checkTopology } from './checks/topology.ts';
import { checkEncryption } from './checks/encryption.ts';
import { checkVersions } from './checks/versions.ts';
import { checkReferences } from './checks/references.ts';
import { checkGates } from './checks/gates.ts';
import { checkKubernetesRanges } from './checks/kubernetes-ranges.ts';
import { checkEndpoints } from './checks/endpoint.ts';
import { checkSkew } from './checks/skew.ts';

export interface ValidateOptions {
  /** unverified version combinations become errors instead of warnings */
  strict?: boolean;
}

/**
 * The semantic checks on a blueprint that already fits the schema. Each is linear or n·log n in the size of
 * the blueprint (the schema bounds that size), and the report keeps the first MAX_REPORTED_ISSUES of each kind.
 */
export function checkBlueprint(bp: Blueprint, opts: ValidateOptions = {}): CheckReport {
  const sink = new IssueSink();
  checkIdentity(bp, sink);
  checkAddressing(bp, sink);
  checkKubernetesRanges(bp, sink);
  checkEndpoints(bp, sink);
  checkTopology(bp, sink);
  checkGates(bp, sink);
  checkEncryption(bp, sink);
  checkVersions(bp, sink, opts.strict ?? false);
  checkReferences(bp, sink);
  checkSkew(bp, sink);
  return {
    errors: sink.omitted.errors ? [...sink.errors, omittedIssue(sink.omitted.errors, 'error')] : sink.errors,
    warnings: sink.omitted.warnings ? [...sink.warnings, omittedIssue(sink.omitted.warnings, 'warning')] : sink.warnings,
  };
}

function schemaIssues(error: z.ZodError): RawIssue[] {
  const all = error.issues.flatMap((issue): RawIssue[] => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...path, key], message: `unknown field "${key}": remove it or check its spelling (docs/blueprint.md lists every field)` }));
    }
    if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
      return [{ path, message: `required field is missing (expected ${issue.expected})` }];
    }
    return [{ path, message: issue.message }];
  });
  return all.length > MAX_REPORTED_ISSUES ? [...all.slice(0, MAX_REPORTED_ISSUES), omittedIssue(all.length - MAX_REPORTED_ISSUES, 'error')] : all;
}

export interface ParsedBlueprint extends CheckReport {
  /** set when the input fits the schema (it may still have semantic errors) */
  blueprint?: Blueprint;
}

/** Schema + semantic checks; structured paths, for callers that map them to source lines. */
export function checkInput(input: unknown, opts: ValidateOptions = {}): ParsedBlueprint {
  const shape = boundInput(input);
  if (shape.length > 0) return { errors: shape, warnings: [] };
  const parsed = blueprintSchema.safeParse(input);
  if (!parsed.success) return { errors: schemaIssues(parsed.error), warnings: [] };
  return { blueprint: parsed.data, ...checkBlueprint(parsed.data, opts) };
}

export function toIssue(raw: RawIssue, line?: number): BlueprintIssue {
  return { path: formatPath(raw.path), message: raw.message, ...(line !== undefined ? { line } : {}) };
}

/** Validates an already-parsed document (no line numbers; blueprint/load.ts adds them for files). */
export function validateBlueprint(input: unknown, opts: ValidateOptions = {}): ValidationResult {
  const r = checkInput(input, opts);
  return { ok: r.errors.length === 0, errors: r.errors.map((e) => toIssue(e)), warnings: r.warnings.map((w) => toIssue(w)) };
}

export class BlueprintInvalidError extends Error {
  override name = 'BlueprintInvalidError';
  constructor(readonly errors: BlueprintIssue[]) {
    super(`blueprint is invalid (${errors.length} error(s)): ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  }
}
