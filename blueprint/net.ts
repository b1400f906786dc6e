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

/**
 * Why `addr` cannot be a host in `subnet`: IPv4's network and broadcast addresses (RFC 919/922; /31 and /32
 * have neither, RFC 3021), IPv6's Subnet-Router anycast address, the all-zero host part (RFC 4291 §2.6.1).
 */
export function reservedIn(subnet: IpInterval & { prefix: number }, addr: IpInterval): string | undefined {
  if (!contains(subnet, addr)) return undefined;
  if (subnet.family === 4 && subnet.prefix <= 30) {
    if (addr.first === subnet.first) return `the network address of ${formatAddress(4, subnet.first)}/${subnet.prefix}`;
    if (addr.first === subnet.last) return `the broadcast address of ${formatAddress(4, subnet.first)}/${subnet.prefix}`;
  }
  if (subnet.family === 6 && subnet.prefix <= 126 && addr.first === subnet.first) {
    return `the Subnet-Router anycast address of ${formatAddress(6, subnet.first)}/${subnet.prefix}`;
  }
  return undefined;
}

export const compareIntervals = (a: IpInterval, b: IpInterval): number =>
  a.family !== b.family ? a.family - b.family : a.first < b.first ? -1 : a.first > b.first ? 1 : 0;

/**
 * Answers "which interval holds this address?" in O(log n) after an O(n log n) build: intervals sorted by start,
 * with the running maximum of their ends. Finds one holder (the one reaching furthest), not all of them.
 */
export class IntervalIndex<T extends { range: IpInterval }> {
  private readonly sorted: T[];
  /** index in `sorted` of the interval with the largest end among sorted[0..i] */
  private readonly reach: number[];

  constructor(items: Iterable<T>) {
    this.sorted = [...items].sort((a, b) => compareIntervals(a.range, b.range));
    this.reach = [];
    this.sorted.forEach((item, i) => {
      const prev = i > 0 ? this.reach[i - 1]! : -1;
      const p = prev >= 0 ? this.sorted[prev]! : undefined;
      this.reach.push(p && p.range.family === item.range.family && p.range.last >= item.range.last ? prev : i);
    });
  }

  holderOf(addr: IpInterval): T | undefined {
    let lo = 0;
    let hi = this.sorted.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.sorted[mid]!.range;
      if (r.family < addr.family || (r.family === addr.family && r.first <= addr.first)) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (at < 0) return undefined;
    const best = this.sorted[this.reach[at]!]!;
    return best.range.family === addr.family && best.range.last >= addr.first ? best : undefined;
  }
}
