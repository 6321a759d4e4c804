import { DEFAULT_USAGES, resolveSpec, type ResolveOptions, type ResolvedSpec } from "./defaults";
import { SpecError } from "./errors";
import type { MeshIdentitySpec } from "./types";

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const selector = { matchLabels: { app: "payments" } };

const fullyDefaulted: ResolvedSpec = {
  selector,
  serviceAccountName: undefined,
  dnsNames: [],
  includePodIP: false,
  durationMs: 24 * h,
  renewBeforeMs: 8 * h,
  privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
  usages: ["server auth", "client auth"],
  secretTemplate: { labels: {}, annotations: {} },
  delivery: "Secret",
};

describe("resolveSpec", () => {
  it.each<[string, Partial<MeshIdentitySpec>, Partial<ResolvedSpec>]>([
    ["applies every default to a spec with only a selector", {}, {}],
    [
      "keeps PodCertificate delivery when asked for",
      { delivery: "PodCertificate" },
      { delivery: "PodCertificate" },
    ],
    [
      "keeps an explicit duration and derives renewBefore as a third of it",
      { duration: "90m" },
      { durationMs: 90 * m, renewBeforeMs: 30 * m },
    ],
    [
      "rounds the derived renewBefore down to whole seconds",
      { duration: "1h1m1s" },
      { durationMs: 3661 * s, renewBeforeMs: 1220 * s },
    ],
    [
      "derives renewBefore for the shortest duration",
      { duration: "10m" },
      { durationMs: 10 * m, renewBeforeMs: 200 * s },
    ],
    [
      "keeps an explicit renewBefore",
      { duration: "24h", renewBefore: "2h" },
      { renewBeforeMs: 2 * h },
    ],
    [
      "checks an explicit renewBefore against the default duration",
      { renewBefore: "23h59m59s" },
      { renewBeforeMs: 24 * h - s },
    ],
    ["defaults the ECDSA size to 256", { privateKey: { algorithm: "ECDSA" } }, {}],
    [
      "keeps an ECDSA size of 384",
      { privateKey: { size: 384 } },
      { privateKey: { algorithm: "ECDSA", size: 384, rotationPolicy: "Always" } },
    ],
    [
      "defaults the RSA size to 2048",
      { privateKey: { algorithm: "RSA" } },
      { privateKey: { algorithm: "RSA", size: 2048, rotationPolicy: "Always" } },
    ],
    [
      "keeps an RSA size of 4096",
      { privateKey: { algorithm: "RSA", size: 4096 } },
      { privateKey: { algorithm: "RSA", size: 4096, rotationPolicy: "Always" } },
    ],
    [
      "gives Ed25519 no size",
      { privateKey: { algorithm: "Ed25519" } },
      { privateKey: { algorithm: "Ed25519", rotationPolicy: "Always" } },
    ],
    [
      "keeps rotationPolicy Never",
      { privateKey: { rotationPolicy: "Never" } },
      { privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Never" } },
    ],
    [
      "keeps explicit usages in the order written",
      { usages: ["client auth"] },
      { usages: ["client auth"] },
    ],
    ["treats an empty usages list as unset", { usages: [] }, { usages: [...DEFAULT_USAGES] }],
    [
      "removes duplicate usages",
      { usages: ["server auth", "server auth"] },
      { usages: ["server auth"] },
    ],
    ["keeps includePodIP", { includePodIP: true }, { includePodIP: true }],
    [
      "keeps the service account",
      { serviceAccountName: "payments" },
      { serviceAccountName: "payments" },
    ],
    [
      "removes duplicate DNS names, keeping the first",
      { dnsNames: ["a.shop.svc", "b.shop.svc", "a.shop.svc"] },
      { dnsNames: ["a.shop.svc", "b.shop.svc"] },
    ],
    [
      "fills a partial secretTemplate with an empty map",
      { secretTemplate: { labels: { team: "x" } } },
      { secretTemplate: { labels: { team: "x" }, annotations: {} } },
    ],
  ])("%s", (_name, spec, expected) => {
    expect(resolveSpec({ selector, ...spec })).toEqual({ ...fullyDefaulted, ...expected });
  });

  it("uses the configured default duration when the spec sets none", () => {
    const resolved = resolveSpec({ selector }, { defaultDurationMs: 12 * h });
    expect(resolved).toMatchObject({ durationMs: 12 * h, renewBeforeMs: 4 * h });
  });

  it("prefers the spec's duration over the configured default", () => {
    expect(
      resolveSpec({ selector, duration: "1h" }, { defaultDurationMs: 12 * h }).durationMs,
    ).toBe(h);
  });

  it("does not share maps with the spec, so callers may not mutate the original through it", () => {
    const spec: MeshIdentitySpec = { selector, secretTemplate: { labels: { a: "b" } } };
    resolveSpec(spec).secretTemplate.labels.c = "d";
    expect(spec.secretTemplate?.labels).toEqual({ a: "b" });
  });

  it.each<[string, Partial<MeshIdentitySpec>, string, ResolveOptions]>([
    ["refuses a malformed duration", { duration: "1 day" }, "spec.duration", {}],
    ["refuses a duration below 10m", { duration: "5m" }, "spec.duration", {}],
    ["refuses a duration above 2160h", { duration: "2161h" }, "spec.duration", {}],
    ["refuses a malformed renewBefore", { renewBefore: "soon" }, "spec.renewBefore", {}],
    ["refuses a renewBefore below 1m", { renewBefore: "59s" }, "spec.renewBefore", {}],
    [
      "refuses a renewBefore equal to the duration",
      { duration: "1h", renewBefore: "1h" },
      "spec.renewBefore",
      {},
    ],
    [
      "refuses a renewBefore not below the default duration",
      { renewBefore: "24h" },
      "spec.renewBefore",
      {},
    ],
    [
      "refuses a renewBefore not below a configured default duration",
      { renewBefore: "8h" },
      "spec.renewBefore",
      { defaultDurationMs: 8 * h },
    ],
    ["refuses an ECDSA size of 521", { privateKey: { size: 521 } }, "spec.privateKey.size", {}],
    [
      "refuses an RSA size of 1024",
      { privateKey: { algorithm: "RSA", size: 1024 } },
      "spec.privateKey.size",
      {},
    ],
    [
      "refuses an Ed25519 key with a size",
      { privateKey: { algorithm: "Ed25519", size: 256 } },
      "spec.privateKey.size",
      {},
    ],
  ])("%s, naming the field", (_name, spec, field, options) => {
    const err = thrown(() => resolveSpec({ selector, ...spec }, options));
    expect(err).toBeInstanceOf(SpecError);
    expect(err).toMatchObject({ field, code: "SpecInvalid", retryable: false });
  });
});

/** thrown returns what `fn` throws, or undefined when it returns. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
