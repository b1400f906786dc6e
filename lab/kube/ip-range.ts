import { Address4, Address6 } from 'ip-address';

/**
 * IPv4 and IPv6 addresses as (family, bigint) pairs, parsed and printed the way Go's net/netip does for what
 * LB-IPAM handles (cilium operator/pkg/lbipam uses netip.ParseAddr, netip.ParsePrefix, Addr.String).
 */
export type Family = 4 | 6;
export interface Addr {
  family: Family;
  n: bigint;
}

export function parseAddr(text: string): Addr | undefined {
  const s = text.trim();
  if (Address4.isValid(s) && !s.includes('/')) return { family: 4, n: new Address4(s).bigInt() };
  if (s.includes(':') && !s.includes('/') && !s.includes('%') && Address6.isValid(s)) return { family: 6, n: new Address6(s).bigInt() };
  return undefined;
}

export const formatAddr = (a: Addr): string => (a.family === 4 ? Address4.fromBigInt(a.n).correctForm() : Address6.fromBigInt(a.n).correctForm());
export const addrKey = (a: Addr): string => `${a.family}:${a.n}`;

/** netip.ParsePrefix + Masked: the first and last address of a CIDR, and its prefix length. */
export function parsePrefix(text: string): { family: Family; first: bigint; last: bigint; bits: number } | undefined {
  const [ip, len, extra] = text.trim().split('/');
  if (ip === undefined || len === undefined || extra !== undefined || !/^\d{1,3}$/.test(len)) return undefined;
  const a = parseAddr(ip);
  if (!a) return undefined;
  const width = a.family === 4 ? 32 : 128;
  const bits = Number(len);
  if (bits > width) return undefined;
  const hostBits = BigInt(width - bits);
  const first = (a.n >> hostBits) << hostBits;
  return { family: a.family, first, last: first + (1n << hostBits) - 1n, bits };
}

/** Whether text is a CIDR as the apiserver's `format: cidr` accepts it (Go net.ParseCIDR). */
export const isCidr = (text: string): boolean => parsePrefix(text) !== undefined;
