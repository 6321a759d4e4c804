/**
 * The API server itself enforces the MeshIdentity schema: the samples apply, specs at the edges
 * of what is allowed apply, and every bad spec is refused with a message naming the field.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { API_VERSION, KIND, type MeshIdentitySpec } from "../../api/v1alpha1";
import { createNamespace, kubectl, testKubeConfig } from "../support/kube";

const kc = testKubeConfig();
const samplesDir = join(__dirname, "..", "..", "manifests", "samples");
const base: MeshIdentitySpec = { selector: { matchLabels: { app: "payments" } } };

/** apply sends one MeshIdentity through `kubectl apply --validate=strict`, as a user would. */
function apply(namespace: string, spec: unknown, name = "payments"): Promise<string> {
  const object = { apiVersion: API_VERSION, kind: KIND, metadata: { name }, spec };
  return kubectl(
    ["apply", "--validate=strict", "-n", namespace, "-f", "-"],
    JSON.stringify(object),
  );
}

/** refusal returns the error kubectl reports for `spec`, failing the test if it was accepted. */
async function refusal(namespace: string, spec: unknown): Promise<string> {
  try {
    await apply(namespace, spec);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`the API server accepted ${JSON.stringify(spec)}`);
}

const dnsNames = (n: number) => Array.from({ length: n }, (_, i) => `s${i}.$(POD_NAMESPACE).svc`);

describe("the MeshIdentity schema on the API server", () => {
  it.each(readdirSync(samplesDir).filter((f) => f.endsWith(".yaml")))(
    "applies the sample %s with server-side apply and reads it back unchanged",
    async (file) => {
      const ns = await createNamespace(kc, "sample");
      const text = readFileSync(join(samplesDir, file), "utf8");
      await kubectl(["apply", "--server-side", "--validate=strict", "-n", ns, "-f", "-"], text);
      const stored = JSON.parse(
        await kubectl(["get", "meshidentities", "-n", ns, "-o", "json"]),
      ) as {
        items: { spec: unknown }[];
      };
      expect(stored.items.map((i) => i.spec)).toEqual([(parse(text) as { spec: unknown }).spec]);
    },
  );

  it.each<[string, Partial<MeshIdentitySpec>]>([
    ["accepts the base spec the refusals below start from", {}],
    ["accepts the shortest duration without renewBefore", { duration: "10m" }],
    ["accepts the longest duration", { duration: "2160h" }],
    ["accepts Go's canonical duration form", { duration: "2160h0m0s", renewBefore: "720h0m0s" }],
    ["accepts the shortest renewBefore", { duration: "10m", renewBefore: "1m" }],
    ["accepts a renewBefore just below the default duration", { renewBefore: "23h59m59s" }],
    ["accepts an Ed25519 key without size", { privateKey: { algorithm: "Ed25519" } }],
    ["accepts an RSA key without size", { privateKey: { algorithm: "RSA" } }],
    [
      "accepts an RSA 4096 key",
      { privateKey: { algorithm: "RSA", size: 4096, rotationPolicy: "Never" } },
    ],
    [
      "accepts an ECDSA size without algorithm (ECDSA is the default)",
      { privateKey: { size: 384 } },
    ],
    [
      "accepts every usage",
      { usages: ["server auth", "client auth", "digital signature", "key encipherment"] },
    ],
    [
      "accepts a wildcard first label and every template variable",
      {
        dnsNames: [
          "*.$(POD_NAMESPACE).svc",
          "$(POD_NAME).$(SERVICE_ACCOUNT).$(POD_NAMESPACE).svc.cluster.local",
        ],
      },
    ],
    ["accepts 100 DNS names", { dnsNames: dnsNames(100) }],
    [
      "accepts a selector made only of expressions",
      { selector: { matchExpressions: [{ key: "app", operator: "Exists" }] } },
    ],
    ["accepts a dotted service account name", { serviceAccountName: "payments.v2" }],
    [
      "accepts PodCertificate delivery with a 1h duration and RSA 3072 keys",
      { delivery: "PodCertificate", duration: "1h", privateKey: { algorithm: "RSA", size: 3072 } },
    ],
  ])("%s", async (_name, change) => {
    const ns = await createNamespace(kc, "ok");
    await expect(apply(ns, { ...base, ...change })).resolves.toContain("created");
  });

  // Each case: what is wrong, the spec (base plus the change, or the given spec), and text that
  // must appear in the error, beginning with the offending field's path.
  it.each<[string, unknown, string]>([
    [
      "refuses a spec without selector",
      { dnsNames: ["a.shop.svc"] },
      "spec.selector: Required value",
    ],
    [
      "refuses an empty selector",
      { ...base, selector: {} },
      "spec.selector: Invalid value: must select by at least one label",
    ],
    [
      "refuses a duration of 5m, below the 10m minimum",
      { ...base, duration: "5m" },
      'spec.duration: Invalid value: "5m": must be between 10m and 2160h',
    ],
    [
      "refuses a duration of 3000h, above the 2160h maximum",
      { ...base, duration: "3000h" },
      'spec.duration: Invalid value: "3000h": must be between 10m and 2160h',
    ],
    [
      "refuses a malformed duration",
      { ...base, duration: "1 day" },
      'spec.duration: Invalid value: "1 day": must be a duration of whole hours, minutes and seconds',
    ],
    [
      "refuses a fractional duration",
      { ...base, duration: "1.5h" },
      'spec.duration: Invalid value: "1.5h": must be a duration',
    ],
    [
      "refuses PodCertificate delivery with a duration below the 1h pod certificates need",
      { ...base, delivery: "PodCertificate", duration: "30m" },
      "spec.duration: Invalid value: must be at least 1h with PodCertificate delivery",
    ],
    [
      "refuses PodCertificate delivery with RSA keys kubelet does not make",
      { ...base, delivery: "PodCertificate", privateKey: { algorithm: "RSA" } },
      "spec.privateKey.size: Invalid value: PodCertificate delivery needs RSA keys of 3072 or 4096 bits",
    ],
    [
      "refuses an unknown delivery",
      { ...base, delivery: "Volume" },
      'spec.delivery: Unsupported value: "Volume"',
    ],
    [
      "refuses a renewBefore equal to the duration",
      { ...base, duration: "1h", renewBefore: "1h" },
      "spec.renewBefore: Invalid value: must be less than duration",
    ],
    [
      "refuses a renewBefore above the duration",
      { ...base, duration: "1h", renewBefore: "90m" },
      "spec.renewBefore: Invalid value: must be less than duration",
    ],
    [
      "refuses a renewBefore not below the default duration of 24h",
      { ...base, renewBefore: "30h" },
      "spec.renewBefore: Invalid value: must be less than duration (24h when duration is not set)",
    ],
    [
      "refuses a renewBefore below 1m",
      { ...base, renewBefore: "30s" },
      'spec.renewBefore: Invalid value: "30s": must be between 1m and 2160h',
    ],
    [
      "refuses an RSA key of 1000 bits",
      { ...base, privateKey: { algorithm: "RSA", size: 1000 } },
      "spec.privateKey.size: Invalid value: must be 2048, 3072 or 4096 for RSA keys",
    ],
    [
      "refuses an ECDSA key of 521 bits",
      { ...base, privateKey: { algorithm: "ECDSA", size: 521 } },
      "spec.privateKey.size: Invalid value: must be 256 or 384 for ECDSA keys",
    ],
    [
      "refuses an RSA size without algorithm, since ECDSA is the default",
      { ...base, privateKey: { size: 2048 } },
      "spec.privateKey.size: Invalid value: must be 256 or 384 for ECDSA keys",
    ],
    [
      "refuses an Ed25519 key with a size",
      { ...base, privateKey: { algorithm: "Ed25519", size: 256 } },
      "spec.privateKey.size: Invalid value: must not be set for Ed25519 keys",
    ],
    [
      "refuses an unknown algorithm",
      { ...base, privateKey: { algorithm: "EC" } },
      'spec.privateKey.algorithm: Unsupported value: "EC"',
    ],
    [
      "refuses an unknown rotationPolicy",
      { ...base, privateKey: { rotationPolicy: "Sometimes" } },
      'spec.privateKey.rotationPolicy: Unsupported value: "Sometimes"',
    ],
    [
      "refuses an unknown usage",
      { ...base, usages: ["server auth", "code signing"] },
      'spec.usages[1]: Unsupported value: "code signing"',
    ],
    [
      "refuses a repeated usage",
      { ...base, usages: ["client auth", "client auth"] },
      'spec.usages[1]: Duplicate value: "client auth"',
    ],
    [
      "refuses an empty usages list",
      { ...base, usages: [] },
      "spec.usages: Invalid value: 0: spec.usages in body should have at least 1 items",
    ],
    [
      "refuses an unknown template variable",
      { ...base, dnsNames: ["ok.shop.svc", "$(NODE_NAME).shop.svc"] },
      'spec.dnsNames[1]: Invalid value: "$(NODE_NAME).shop.svc": may use only the template variables $(POD_NAME), $(POD_NAMESPACE) and $(SERVICE_ACCOUNT)',
    ],
    [
      "refuses an upper-case DNS name",
      { ...base, dnsNames: ["Payments.shop.svc"] },
      'spec.dnsNames[0]: Invalid value: "Payments.shop.svc": must be lower case',
    ],
    [
      "refuses a wildcard that is not the first label",
      { ...base, dnsNames: ["payments.*.svc"] },
      'spec.dnsNames[0]: Invalid value: "payments.*.svc": may contain a wildcard only as the whole first label',
    ],
    [
      "refuses a wildcard inside the first label",
      { ...base, dnsNames: ["api-*.shop.svc"] },
      'spec.dnsNames[0]: Invalid value: "api-*.shop.svc": may contain a wildcard only as the whole first label',
    ],
    [
      "refuses a DNS name with an empty label",
      { ...base, dnsNames: ["payments..svc"] },
      'spec.dnsNames[0]: Invalid value: "payments..svc": must be a DNS name',
    ],
    [
      "refuses a DNS label of 64 characters",
      { ...base, dnsNames: [`${"a".repeat(64)}.shop.svc`] },
      'spec.dnsNames[0]: Invalid value: "aaaa',
    ],
    [
      "refuses 101 DNS names",
      { ...base, dnsNames: dnsNames(101) },
      "spec.dnsNames: Too many: 101: must have at most 100 items",
    ],
    [
      "refuses a repeated DNS name",
      { ...base, dnsNames: ["a.shop.svc", "a.shop.svc"] },
      'spec.dnsNames[1]: Duplicate value: "a.shop.svc"',
    ],
    [
      "refuses a service account name that is not a DNS subdomain",
      { ...base, serviceAccountName: "Payments_SA" },
      'spec.serviceAccountName: Invalid value: "Payments_SA": spec.serviceAccountName in body should match',
    ],
    [
      "refuses includePodIP that is not a boolean",
      { ...base, includePodIP: "yes" },
      'spec.includePodIP: Invalid value: "string": spec.includePodIP in body must be of type boolean',
    ],
    [
      "refuses an unknown field in spec under strict field validation",
      { ...base, renewAt: "1h" },
      'strict decoding error: unknown field "spec.renewAt"',
    ],
    [
      "refuses an unknown field in privateKey under strict field validation",
      { ...base, privateKey: { bits: 256 } },
      'strict decoding error: unknown field "spec.privateKey.bits"',
    ],
    [
      "refuses values on an Exists expression",
      { selector: { matchExpressions: [{ key: "app", operator: "Exists", values: ["x"] }] } },
      "spec.selector.matchExpressions[0].values: Invalid value: must be non-empty for In and NotIn, and empty for Exists and DoesNotExist",
    ],
    [
      "refuses a selector label key that is not a qualified name",
      { selector: { matchLabels: { "a/b/c": "x" } } },
      "spec.selector.matchLabels: Invalid value: keys must be an optional DNS subdomain prefix",
    ],
    [
      "refuses secretTemplate labels under meshid.dev/",
      { ...base, secretTemplate: { labels: { "meshid.dev/managed": "false" } } },
      "spec.secretTemplate.labels: Invalid value: must not use keys under meshid.dev/",
    ],
    [
      "refuses a secretTemplate label value that is not a label value",
      { ...base, secretTemplate: { labels: { team: "a b" } } },
      'spec.secretTemplate.labels.team: Invalid value: "a b"',
    ],
  ])("%s", async (_name, spec, expected) => {
    const ns = await createNamespace(kc, "bad");
    expect(await refusal(ns, spec)).toContain(expected);
  });
});
