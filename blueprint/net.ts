// Address arithmetic for the blueprint checks: every CIDR, range and address becomes an inclusive
// [first, last] interval of BigInts per family, so "overlap" is one comparison whatever the prefix lengths.
import { Address4, Address6 } from 'ip-address';

export type Family = 4 | 6;

export interface IpInterval {
  family: Family;
  first: bigint;
  last: bigint;
}

type Parsed<T> = { value: T; error?: undefined } | { value?: undefined; error: string };

function parseOne(text: string): Address4 | Address6 | undefined {
  try {
    if (Address4.isValid(text)) return new Address4(text);
    if (text.includes(':') && Address6.isValid(text)) return new Address6(text);
  } catch {
    // fall through: reported by the caller as "not an address"
  }
  return undefined;
}

export function parseAddress(text: string): Parsed<IpInterval & { text: string }> {
  if (text.includes('/')) return { error: `"${text}" is a CIDR: give a single address without a prefix length` };
  const addr = parseOne(text);
  if (!addr) return { error: `"${text}" is not an IPv4 or IPv6 address` };
  const n = addr.bigInt();
  return { value: { family: addr instanceof Address4 ? 4 : 6, first: n, last: n, text } };
}

/**
 * A CIDR with host bits set (10.1.0.5/16) is refused rather than normalised: LB-IPAM silently normalises a
 * misaligned pool and hands out addresses nobody planned for.
 */
export function parseCidr(text: string): Parsed<IpInterval & { prefix: number; text: string }> {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return { error: `"${text}" is not a CIDR (expected address/prefix, e.g. 10.1.0.0/16)` };
  const addr = parseOne(text);
  if (!addr) return { error: `"${text}" is not a valid IPv4 or IPv6 CIDR` };
  const family: Family = addr instanceof Address4 ? 4 : 6;
  const start = addr.startAddress();
  if (start.bigInt() !== addr.bigInt()) {
    return { error: `"${text}" has host bits set: did you mean ${start.correctForm()}/${addr.subnetMask}?` };
  }
  return {
    value: { family, first: start.bigInt(), last: addr.endAddress().bigInt(), prefix: addr.subnetMask, text },
  };
}

export function parseRange(start: string, stop: string | undefined): Parsed<IpInterval> {
  const a = parseAddress(start);
  if (a.error !== undefined) return { error: a.error };
  const b = parseAddress(stop ?? start);
  if (b.error !== undefined) return { error: b.error };
  if (a.value.family !== b.value.family) return { error: `range ${start}-${stop} mixes IPv4 and IPv6` };
  if (b.value.first < a.value.first) return { error: `range stop ${stop} is before start ${start}` };
  return { value: { family: a.value.family, first: a.value.first, last: b.value.first } };
}

export function overlaps(a: IpInterval, b: IpInterval): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function contains(outer: IpInterval, inner: IpInterval): boolean {
  return outer.family === inner.family && outer.first <= inner.first && inner.last <= outer.last;
}

export function formatAddress(family: Family, n: bigint): string {
  return family === 4 ? Address4.fromBigInt(n).correctForm() : Address6.fromBigInt(n).correctForm();
}

export function formatInterval(i: IpInterval): string {
  return i.first === i.last
    ? formatAddress(i.family, i.first)
    : `${formatAddress(i.family, i.first)}-${formatAddress(i.family, i.last)}`;
}
