/**
 * Redaction for anything a tool prints or is called with. Values known to be secret (resolved from the
 * secret store for this call) are replaced verbatim; well-known key material is caught by pattern.
 */
const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const PATTERNS: RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  CERTIFICATE,
  /((?:client-key-data|client-certificate-data|certificate-authority-data|token|password|secret|key|crt|ca)\s*[:=]\s*)("?)[A-Za-z0-9+/=._-]{16,}\2/gi,
  /(Authorization:\s*(?:Basic|Bearer)\s+)\S+/gi,
  /(--(?:password|token|key|secret)[= ])\S+/gi,
];

/**
 * `keepCertificates`: a read of public certificates only (a CA trust bundle) keeps PEM certificates; private keys,
 * the given secrets and credential-like fields are still redacted.
 */
export function redact(text: string, secrets: readonly string[] = [], opts: { keepCertificates?: boolean } = {}): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('<redacted>');
  for (const p of PATTERNS) {
    if (opts.keepCertificates && p === CERTIFICATE) continue;
    out = out.replace(p, (m, prefix?: string, quote?: string) =>
      typeof prefix === 'string' && prefix.length < m.length ? `${prefix}${quote ?? ''}<redacted>${quote ?? ''}` : '<redacted>',
    );
  }
  return out;
}

export function redactArgs(args: readonly string[], secrets: readonly string[] = []): string[] {
  return args.map((a) => redact(a, secrets));
}
