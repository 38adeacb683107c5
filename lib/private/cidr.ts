import net from 'node:net';

/**
 * Checks an IPv4 or IPv6 CIDR. Returns `undefined` when valid, else what is wrong; a block with
 * host bits set (10.0.0.1/8) is refused with the block it probably meant.
 */
export function cidrProblem(cidr: string): string | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!match) return 'must be a CIDR block such as "10.0.0.0/8" or "203.0.113.7/32"';
  const [, address, bitsText] = match;
  const family = net.isIP(address);
  if (family === 0) return `"${address}" is not an IP address`;
  const bits = Number(bitsText);
  const width = family === 4 ? 32 : 128;
  if (bits > width) return `the prefix length must be at most ${width}`;
  const value = family === 4 ? ipv4ToBigInt(address) : ipv6ToBigInt(address);
  const hostMask = (1n << BigInt(width - bits)) - 1n;
  if ((value & hostMask) !== 0n) {
    const network = value & ~hostMask;
    const suggestion = family === 4 ? bigIntToIpv4(network) : bigIntToIpv6(network);
    return `has host bits set; did you mean "${suggestion}/${bits}" (or "${address}/${width}" for one address)?`;
  }
  return undefined;
}

function ipv4ToBigInt(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) + BigInt(Number(part)), 0n);
}

function bigIntToIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
}

function ipv6ToBigInt(address: string): bigint {
  const [head, tail = ''] = address.includes('::') ? address.split('::') : [address, undefined as unknown as string];
  const headParts = head ? head.split(':') : [];
  const tailParts = address.includes('::') && tail ? tail.split(':') : [];
  const missing = 8 - headParts.length - tailParts.length;
  const parts = [...headParts, ...Array(address.includes('::') ? missing : 0).fill('0'), ...tailParts];
  return parts.reduce((acc, part) => (acc << 16n) + BigInt(parseInt(part || '0', 16)), 0n);
}

function bigIntToIpv6(value: bigint): string {
  const parts: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) parts.push(((value >> shift) & 0xffffn).toString(16));
  return parts.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}
