/**
 * Syntax of the names meshid puts into certificates: SPIFFE IDs (SPIFFE-ID standard, section 2),
 * trust domains and DNS names. Policy (which names a pod may have) lives in operator/policy/; this
 * only keeps malformed names out of certificates.
 */

const trustDomainPattern = /^[a-z0-9._-]+$/;
const pathSegmentPattern = /^[A-Za-z0-9._-]+$/;
const dnsLabelPattern = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** isTrustDomain: lower-case letters, digits, ".", "-" and "_", as SPIFFE trust domains are. */
export function isTrustDomain(text: string): boolean {
  return text.length > 0 && text.length <= 255 && trustDomainPattern.test(text);
}

/** spiffeIdProblem says what is wrong with a SPIFFE ID, or undefined when it is well formed. */
export function spiffeIdProblem(id: string): string | undefined {
  if (!id.startsWith("spiffe://")) return 'it must start with "spiffe://"';
  if (id.length > 2048) return "it is longer than 2048 bytes";
  const rest = id.slice("spiffe://".length);
  const slash = rest.indexOf("/");
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  if (!isTrustDomain(trustDomain)) {
    return 'its trust domain must be lower-case letters, digits, ".", "-" or "_"';
  }
  if (slash === -1) return undefined;
  const segments = rest.slice(slash + 1).split("/");
  for (const segment of segments) {
    if (segment === "") return "its path has an empty segment or a trailing slash";
    if (segment === "." || segment === "..") return 'its path has a "." or ".." segment';
    if (!pathSegmentPattern.test(segment)) {
      return 'its path segments must be letters, digits, ".", "-" or "_"';
    }
  }
  return undefined;
}

/** spiffeTrustDomain is the trust domain of a well-formed SPIFFE ID. */
export function spiffeTrustDomain(id: string): string {
  return id.slice("spiffe://".length).split("/")[0] ?? "";
}

/** isDnsName: a hostname of LDH labels, optionally with a leading "*." wildcard label. */
export function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.startsWith("*.") ? name.slice(2).split(".") : name.split(".");
  return labels.every((label) => dnsLabelPattern.test(label));
}
