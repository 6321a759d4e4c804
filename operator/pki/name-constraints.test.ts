import { ipToBytes } from "./ip";
import {
  type LeafNames,
  type NameConstraintSet,
  nameConstraintViolation,
  readNameConstraints,
} from "./name-constraints";
import { parseCertificates } from "./pem";
import { newTestCa } from "./testing/fixtures";

const set: NameConstraintSet = {
  subject: "CN=test",
  permitted: {
    uri: ["cluster.local"],
    dns: ["cluster.local", "svc"],
    ip: [{ base: new Uint8Array([10, 0, 0, 0]), mask: new Uint8Array([255, 0, 0, 0]) }],
  },
  excluded: { uri: [], dns: ["secret.svc"], ip: [] },
};

function names(change: Partial<LeafNames>): LeafNames {
  return { uris: ["spiffe://cluster.local/ns/a/sa/b"], dnsNames: [], ips: [], ...change };
}

describe("nameConstraintViolation", () => {
  it.each<[string, Partial<LeafNames>, string | undefined]>([
    ["a SPIFFE ID in the trust domain is permitted", {}, undefined],
    [
      "a SPIFFE ID in another trust domain is not",
      { uris: ["spiffe://evil.example/ns/a"] },
      "URI spiffe://evil.example/ns/a",
    ],
    [
      "a URI host below the trust domain is not (exact host match)",
      { uris: ["spiffe://x.cluster.local/a"] },
      "x.cluster.local",
    ],
    [
      "a DNS name equal to a permitted domain is permitted",
      { dnsNames: ["cluster.local"] },
      undefined,
    ],
    ["a DNS name below a permitted domain is permitted", { dnsNames: ["web.shop.svc"] }, undefined],
    [
      "a DNS name that only ends in the same letters is not",
      { dnsNames: ["web.shopsvc"] },
      "DNS name web.shopsvc",
    ],
    ["a DNS name in an excluded subtree is not", { dnsNames: ["db.secret.svc"] }, "excluded"],
    [
      "an IP inside a permitted range is permitted",
      { ips: [ipToBytes("10.1.2.3") ?? new Uint8Array()] },
      undefined,
    ],
    [
      "an IP outside the permitted ranges is not",
      { ips: [ipToBytes("192.168.0.1") ?? new Uint8Array()] },
      "IP address 192.168.0.1",
    ],
  ])("%s", (_, change, problem) => {
    const found = nameConstraintViolation([set], names(change));
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });

  it("leaves a name type without permitted subtrees unconstrained", () => {
    const uriOnly: NameConstraintSet = {
      ...set,
      permitted: { uri: ["cluster.local"], dns: [], ip: [] },
    };
    expect(
      nameConstraintViolation([uriOnly], names({ dnsNames: ["anything.example"] })),
    ).toBeUndefined();
  });
});

describe("readNameConstraints", () => {
  it("reads the permitted subtrees bootstrapCa wrote, and nothing from a root without them", async () => {
    const { boot } = await newTestCa();
    const [intermediate] = parseCertificates(boot.intermediate.certPem, "intermediate");
    const [root] = parseCertificates(boot.root.certPem, "root");
    expect(readNameConstraints(intermediate?.der ?? new Uint8Array(), "i")).toEqual({
      subject: "i",
      permitted: { uri: ["cluster.local"], dns: ["cluster.local", "svc"], ip: [] },
      excluded: { uri: [], dns: [], ip: [] },
    });
    expect(readNameConstraints(root?.der ?? new Uint8Array(), "r")).toBeUndefined();
  });
});
