import { isIP } from 'node:net';

/** Expands an IPv6 address (no zone id) to its eight 16-bit groups. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (isIP(text.slice(lastColon + 1)) === 4) {
    // Embedded IPv4 in the last 32 bits (RFC 4291 §2.2, form 3).
    const octets = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    tail = [(octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!];
    text = text.slice(0, lastColon + 1) + '0';
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  if (tail.length > 0) right.length > 0 ? right.splice(-1, 1, ...tail) : left.splice(-1, 1, ...tail);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (rest === undefined && missing !== 0)) return undefined;
  return [...left, ...new Array<number>(missing).fill(0), ...right];
}

/**
 * The key under which failures from a peer address are counted: an IPv4 address as
 * is (also when it arrives IPv4-mapped, `::ffff:a.b.c.d`), an IPv6 address by its
 * /64 prefix, since anyone holding one IPv6 address usually holds the whole /64
 * (RFC 6177). Anything else (unknown address) is kept, trimmed to 64 characters.
 */
export function sourceOf(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  const plain = address.split('%')[0]!;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(plain);
  if (mapped && isIP(mapped[1]!) === 4) return mapped[1]!;
  if (isIP(plain) === 4) return plain;
  if (isIP(plain) === 6) {
    const groups = ipv6Groups(plain);
    if (groups)
      return `${groups
        .slice(0, 4)
        .map((g) => g.toString(16))
        .join(':')}::/64`;
  }
  return address.slice(0, 64);
}
