// X.509 for the lab's Cilium chart: what sprig's genCA, genSignedCert and buildCustomCert give the real chart
// (templates/_helpers.tpl "cilium.ca.setup", templates/clustermesh-apiserver/tls-helm/*.yaml). Keys and signatures
// come from node:crypto, the certificate structure from @peculiar/asn1-x509; everything is synchronous so a chart
// render stays one synchronous step. Keys are EC P-256 where sprig makes RSA 2048: the lab re-issues on every
// `helm upgrade`, and nothing meshpilot reads depends on the key type (conformance: test/conformance/chart-certs).
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x from '@peculiar/asn1-x509';

export interface CertPair {
  /** PEM */
  cert: string;
  /** PEM (PKCS#8) */
  key: string;
}

export const DAY_MS = 86_400_000;
const ECDSA_SHA256 = '1.2.840.10045.4.3.2';

function nameOf(cn: string): x.Name {
  return new x.Name([new x.RelativeDistinguishedName([new x.AttributeTypeAndValue({ type: '2.5.4.3', value: new x.AttributeValue({ utf8String: cn }) })])]);
}

const ext = (id: string, critical: boolean, value: unknown) => new x.Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });

const pem = (der: ArrayBuffer) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

export interface IssueOptions {
  cn: string;
  /** validity in days from notBefore (sprig: from now) */
  days: number;
  /** default now; the lab backdates to simulate a certificate issued long ago */
  notBefore?: Date;
  ips?: string[];
  dns?: string[];
  /** the signer; absent = self-signed CA (genCA) */
  ca?: CertPair;
}

/**
 * genCA (self-signed, CA:TRUE, keyCertSign) or genSignedCert (CA:FALSE, server and client auth, the given SANs),
 * with the usages sprig's crypto.go sets.
 */
export function issueCert(o: IssueOptions): CertPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const from = o.notBefore ?? new Date();
  const to = new Date(from.getTime() + o.days * DAY_MS);
  const isCa = !o.ca;
  const signer: KeyObject = o.ca ? createPrivateKey(o.ca.key) : privateKey;
  const issuer = o.ca ? AsnConvert.parse(new X509Certificate(o.ca.cert).raw, x.Certificate).tbsCertificate.subject : nameOf(o.cn);
  const usage = x.KeyUsageFlags.keyEncipherment | x.KeyUsageFlags.digitalSignature | (isCa ? x.KeyUsageFlags.keyCertSign : 0);
  const extensions = [
    ext(x.id_ce_keyUsage, true, new x.KeyUsage(usage)),
    ext(x.id_ce_extKeyUsage, false, new x.ExtendedKeyUsage([x.id_kp_serverAuth, x.id_kp_clientAuth])),
    ext(x.id_ce_basicConstraints, true, new x.BasicConstraints({ cA: isCa })),
  ];
  const sans = [...(o.dns ?? []).map((d) => new x.GeneralName({ dNSName: d })), ...(o.ips ?? []).map((ip) => new x.GeneralName({ iPAddress: ip }))];
  if (sans.length) extensions.push(ext(x.id_ce_subjectAltName, false, new x.SubjectAlternativeName(sans)));
  const serial = randomBytes(16);
  // DER INTEGER: positive (high bit clear) and minimal (no leading zero byte)
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const alg = new x.AlgorithmIdentifier({ algorithm: ECDSA_SHA256 });
  const tbs = new x.TBSCertificate({
    version: x.Version.v3,
    serialNumber: new Uint8Array(serial).buffer,
    signature: alg,
    issuer,
    validity: new x.Validity({ notBefore: from, notAfter: to }),
    subject: nameOf(o.cn),
    subjectPublicKeyInfo: AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), x.SubjectPublicKeyInfo),
    extensions: new x.Extensions(extensions),
  });
  const signature = sign('sha256', Buffer.from(AsnConvert.serialize(tbs)), { key: signer, dsaEncoding: 'der' });
  const cert = new x.Certificate({ tbsCertificate: tbs, signatureAlgorithm: alg, signatureValue: new Uint8Array(signature).buffer });
  return { cert: pem(AsnConvert.serialize(cert)), key: String(privateKey.export({ type: 'pkcs8', format: 'pem' })) };
}

/** The PEM certificates in a bundle (the chart's tls.caBundle.content), each normalised to its base64 body. */
export function pemBodies(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => m[1]!.replace(/\s+/g, ''));
}

/** `tls.ca.cert` / `tls.ca.key` values: base64 of PEM (buildCustomCert b64decs them). Undefined when not usable. */
export function decodeValuePem(b64: unknown): string | undefined {
  if (typeof b64 !== 'string' || !b64) return undefined;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  return text.includes('-----BEGIN') ? text : undefined;
}
