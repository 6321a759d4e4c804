/**
 * Issuer-side name-constraint checks (RFC 5280 section 4.2.1.10) for the SAN types meshid issues:
 * URI, DNS and IP. A leaf outside its CA's constraints would be refused by every verifier, so it
 * is refused before signing with a message that says which name and which constraint.
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { bytesToIp } from "./ip";

/** Subtrees are the URI hosts, DNS domains and IP ranges of one permitted or excluded list. */
export interface Subtrees {
  uri: string[];
  dns: string[];
  ip: IpRange[];
}

/** IpRange is an iPAddress constraint: base address and mask, both 4 or 16 bytes. */
export interface IpRange {
  base: Uint8Array;
  mask: Uint8Array;
}

/** NameConstraintSet is the nameConstraints extension of one CA certificate. */
export interface NameConstraintSet {
  /** subject names the CA in messages. */
  subject: string;
  permitted: Subtrees;
  excluded: Subtrees;
}

/** LeafNames are the SANs of a certificate about to be issued; IPs as raw bytes. */
export interface LeafNames {
  uris: readonly string[];
  dnsNames: readonly string[];
  ips: readonly Uint8Array[];
}

/** readNameConstraints extracts the nameConstraints of a DER certificate, if it has any. */
export function readNameConstraints(
  der: Uint8Array,
  subject: string,
): NameConstraintSet | undefined {
  const cert = pkijs.Certificate.fromBER(new Uint8Array(der));
  const ext = cert.extensions?.find((e) => e.extnID === pkijs.id_NameConstraints);
  if (ext === undefined) return undefined;
  const nc = pkijs.NameConstraints.fromBER(new Uint8Array(ext.extnValue.valueBlock.valueHexView));
  return {
    subject,
    permitted: toSubtrees(nc.permittedSubtrees ?? []),
    excluded: toSubtrees(nc.excludedSubtrees ?? []),
  };
}

function toSubtrees(list: pkijs.GeneralSubtree[]): Subtrees {
  const out: Subtrees = { uri: [], dns: [], ip: [] };
  for (const { base } of list) {
    if (base.type === 6 && typeof base.value === "string") out.uri.push(base.value.toLowerCase());
    if (base.type === 2 && typeof base.value === "string") out.dns.push(base.value.toLowerCase());
    if (base.type === 7 && base.value instanceof asn1js.OctetString) {
      const bytes = base.value.valueBlock.valueHexView;
      const half = bytes.length / 2;
      out.ip.push({ base: bytes.slice(0, half), mask: bytes.slice(half) });
    }
  }
  return out;
}

/** dnsMatches: "d" matches "d" and every name below it; ".d" only names below it. */
function dnsMatches(name: string, constraint: string): boolean {
  const n = name.toLowerCase();
  if (constraint === "") return true;
  if (constraint.startsWith(".")) return n.endsWith(constraint);
  return n === constraint || n.endsWith(`.${constraint}`);
}

/** uriMatches compares the URI's host: "h" matches exactly, ".h" matches hosts below h. */
function uriMatches(host: string, constraint: string): boolean {
  if (constraint.startsWith(".")) return host.endsWith(constraint);
  return host === constraint;
}

function ipMatches(ip: Uint8Array, range: IpRange): boolean {
  if (ip.length !== range.base.length) return false;
  return ip.every(
    (b, i) => (b & (range.mask[i] ?? 0)) === ((range.base[i] ?? 0) & (range.mask[i] ?? 0)),
  );
}

function uriHost(uri: string): string {
  try {
    return new URL(uri).hostname.toLowerCase();
  } catch {
    return "";
  }
}

/**
 * nameConstraintViolation returns a description of the first SAN that a set forbids, or
 * undefined when every set allows every name. A type with no permitted subtree is unconstrained.
 */
export function nameConstraintViolation(
  sets: readonly NameConstraintSet[],
  names: LeafNames,
): string | undefined {
  for (const set of sets) {
    const { permitted: p, excluded: x } = set;
    for (const uri of names.uris) {
      const host = uriHost(uri);
      const v = judge(`URI ${uri}`, set, p.uri, x.uri, (c) => uriMatches(host, c), String);
      if (v !== undefined) return v;
    }
    for (const dns of names.dnsNames) {
      const v = judge(`DNS name ${dns}`, set, p.dns, x.dns, (c) => dnsMatches(dns, c), String);
      if (v !== undefined) return v;
    }
    for (const ip of names.ips) {
      const show = (r: IpRange): string =>
        `${bytesToIp(r.base) ?? "?"}/${bytesToIp(r.mask) ?? "?"}`;
      const label = `IP address ${bytesToIp(ip) ?? "?"}`;
      const v = judge(label, set, p.ip, x.ip, (r) => ipMatches(ip, r), show);
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

function judge<T>(
  label: string,
  set: NameConstraintSet,
  permitted: readonly T[],
  excluded: readonly T[],
  matches: (constraint: T) => boolean,
  show: (constraint: T) => string,
): string | undefined {
  if (permitted.length > 0 && !permitted.some(matches)) {
    return `${label} is outside the names permitted by CA "${set.subject}" (${permitted.map(show).join(", ")})`;
  }
  if (excluded.some(matches)) return `${label} is among the names excluded by CA "${set.subject}"`;
  return undefined;
}
