/** IPv4 arithmetic for LB-IPAM blocks and subnet checks (the lab models IPv4 only, like L2 announcements). */
export const ipToInt = (ip: string): number => {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`invalid IPv4 address "${ip}"`);
  return ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!;
};
export const intToIp = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

export function parseCidr(cidr: string): { first: number; last: number; bits: number } {
  const [ip, b] = cidr.split('/');
  const bits = Number(b ?? 32);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`invalid CIDR "${cidr}"`);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const first = (ipToInt(ip!) & mask) >>> 0;
  return { first, last: (first + 2 ** (32 - bits) - 1) >>> 0, bits };
}

export function inCidr(ip: string, cidr: string): boolean {
  try {
    const { first, last } = parseCidr(cidr);
    const n = ipToInt(ip);
    return n >= first && n <= last;
  } catch {
    return false;
  }
}

export const sameSlash24 = (a: string, b: string): boolean => (ipToInt(a) >>> 8) === (ipToInt(b) >>> 8);
