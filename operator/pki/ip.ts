/**
 * IP addresses as certificates carry them: 4 or 16 raw bytes in an iPAddress SAN, and the
 * canonical text forms (dotted quad, RFC 5952 IPv6) meshid compares them by.
 */
import { isIPv4, isIPv6 } from "node:net";

/** ipToBytes returns the 4 or 16 bytes of an IPv4/IPv6 address, or undefined if it is not one. */
export function ipToBytes(text: string): Uint8Array | undefined {
  if (isIPv4(text)) return new Uint8Array(text.split(".").map(Number));
  if (!isIPv6(text) || text.includes("%")) return undefined;
  // An embedded IPv4 tail (::ffff:10.0.0.1) becomes its two hex groups (::ffff:a00:1).
  const head = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) =>
    [(Number(a) << 8) | Number(b), (Number(c) << 8) | Number(d)]
      .map((g) => g.toString(16))
      .join(":"),
  );
  const [left = "", right] = head.split("::");
  const parse = (part: string): number[] =>
    part === "" ? [] : part.split(":").map((g) => parseInt(g, 16));
  const l = parse(left);
  const r = right === undefined ? [] : parse(right);
  const zeros = 8 - l.length - r.length;
  const groups = [...l, ...new Array<number>(right === undefined ? 0 : zeros).fill(0), ...r];
  if (groups.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/** bytesToIp renders 4 or 16 address bytes in canonical text; other lengths give undefined. */
export function bytesToIp(bytes: Uint8Array): string | undefined {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  if (bytes.length !== 16) return undefined;
  // RFC 5952 section 5: IPv4-mapped addresses keep the dotted quad.
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${Array.from(bytes.subarray(12)).join(".")}`;
  }
  const groups = Array.from(
    { length: 8 },
    (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0),
  );
  // RFC 5952: compress the longest run (leftmost on ties) of two or more zero groups.
  let best = { start: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { start: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.len < 2) return hex.join(":");
  const left = hex.slice(0, best.start).join(":");
  const right = hex.slice(best.start + best.len).join(":");
  return `${left}::${right}`;
}

/** canonicalIp returns the canonical text of an address, or undefined if it is not one. */
export function canonicalIp(text: string): string | undefined {
  const bytes = ipToBytes(text);
  return bytes === undefined ? undefined : bytesToIp(bytes);
}
