import { isDnsName, isTrustDomain, spiffeIdProblem, spiffeTrustDomain } from "./names";

describe("spiffeIdProblem", () => {
  it.each<[string, string, string | undefined]>([
    [
      "an Istio-style workload ID is well formed",
      "spiffe://cluster.local/ns/shop/sa/payments",
      undefined,
    ],
    ["a trust-domain-only ID is well formed", "spiffe://cluster.local", undefined],
    ["another scheme is refused", "https://cluster.local/ns/a", 'it must start with "spiffe://"'],
    [
      "an upper-case trust domain is refused",
      "spiffe://Cluster.local/ns/a",
      "its trust domain must be lower-case",
    ],
    [
      "a port is refused",
      "spiffe://cluster.local:8443/ns/a",
      "its trust domain must be lower-case",
    ],
    ["an empty segment is refused", "spiffe://cluster.local/ns//a", "empty segment"],
    ["a trailing slash is refused", "spiffe://cluster.local/ns/a/", "trailing slash"],
    ["a dot-dot segment is refused", "spiffe://cluster.local/ns/../a", '".."'],
    ["a query is refused", "spiffe://cluster.local/ns/a?x=1", "path segments must be"],
  ])("%s", (_, id, problem) => {
    const found = spiffeIdProblem(id);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});

describe("spiffeTrustDomain", () => {
  it("is the host part of the ID", () => {
    expect(spiffeTrustDomain("spiffe://example.org/ns/a/sa/b")).toBe("example.org");
  });
});

describe("isTrustDomain", () => {
  it.each([
    ["a dotted lower-case name is a trust domain", "cluster.local", true],
    ["underscores are allowed", "my_domain", true],
    ["upper case is not allowed", "Cluster", false],
    ["an empty string is not a trust domain", "", false],
  ])("%s", (_, text, expected) => {
    expect(isTrustDomain(text)).toBe(expected);
  });
});

describe("isDnsName", () => {
  it.each([
    ["a service name is a DNS name", "payments.shop.svc", true],
    ["a single label is a DNS name", "svc", true],
    ["a leading wildcard label is allowed", "*.payments.shop.svc", true],
    ["a wildcard inside the name is not", "web.*.svc", false],
    ["an underscore is not allowed", "bad_name.svc", false],
    ["a label may not start with a hyphen", "-web.svc", false],
    ["an empty label is not allowed", "web..svc", false],
    ["a 64-character label is too long", `${"a".repeat(64)}.svc`, false],
  ])("%s", (_, name, expected) => {
    expect(isDnsName(name)).toBe(expected);
  });
});
