import { buildPodSecret, slimSecret, type PodSecretInput } from "./objects";

const input: PodSecretInput = {
  pod: { metadata: { name: "web-0", namespace: "shop", uid: "u1" } },
  secretName: "meshid-web-0",
  identityName: "web",
  identityGeneration: 2,
  certChainPem: "CHAIN",
  keyPem: "KEY",
  trustBundlePem: "ROOT",
  specHash: "h",
  issuerFingerprint: "f",
  serialHex: "01",
  notAfter: new Date("2026-11-29T12:00:00Z"),
  renewAt: new Date("2026-11-29T04:00:00.123Z"),
};

describe("buildPodSecret", () => {
  it("never carries Argo CD tracking labels or annotations, even when the secretTemplate asks", () => {
    const s = buildPodSecret({
      ...input,
      template: {
        labels: {
          "app.kubernetes.io/instance": "meshid",
          "argocd.argoproj.io/instance": "x",
          team: "pay",
        },
        annotations: {
          "argocd.argoproj.io/tracking-id": "meshid:/Secret:shop/x",
          "argocd.argoproj.io/sync-options": "Prune=false",
          note: "n",
        },
      },
    });
    const keys = [
      ...Object.keys(s.metadata?.labels ?? {}),
      ...Object.keys(s.metadata?.annotations ?? {}),
    ];
    expect(
      keys.filter((k) => k.startsWith("argocd.argoproj.io/") || k === "app.kubernetes.io/instance"),
    ).toEqual([]);
    expect(s.metadata?.labels?.team).toBe("pay");
    expect(s.metadata?.annotations?.note).toBe("n");
  });

  it("lets meshid's own labels win over the template", () => {
    const s = buildPodSecret({ ...input, template: { labels: { "meshid.dev/managed": "false" } } });
    expect(s.metadata?.labels?.["meshid.dev/managed"]).toBe("true");
  });

  it("is a kubernetes.io/tls Secret owned by its pod, recording what it was built from", () => {
    const s = buildPodSecret(input);
    expect(s.type).toBe("kubernetes.io/tls");
    expect(s.metadata?.ownerReferences).toEqual([
      {
        apiVersion: "v1",
        kind: "Pod",
        name: "web-0",
        uid: "u1",
        controller: true,
        blockOwnerDeletion: false,
      },
    ]);
    expect(s.metadata?.annotations).toMatchObject({
      "meshid.dev/identity-generation": "2",
      "meshid.dev/spec-hash": "h",
      "meshid.dev/issuer-fingerprint": "f",
      "meshid.dev/serial": "01",
      "meshid.dev/not-after": "2026-11-29T12:00:00Z",
      "meshid.dev/renew-at": "2026-11-29T04:00:00.123Z",
      "meshid.dev/pod-uid": "u1",
    });
    expect(Object.keys(s.data ?? {}).sort()).toEqual(["ca.crt", "tls.crt", "tls.key"]);
  });
});

describe("slimSecret", () => {
  const secret = (bundle: string) => ({
    metadata: {
      name: "meshid-p1",
      namespace: "shop",
      resourceVersion: "7",
      managedFields: [{ manager: "meshid" }],
      annotations: { a: "b" },
    },
    type: "kubernetes.io/tls",
    data: { "tls.crt": "Y2VydA==", "tls.key": "a2V5", "ca.crt": bundle },
  });

  it("keeps metadata, type and ca.crt, and drops tls.crt, tls.key and managedFields", () => {
    const slim = slimSecret(secret("YnVuZGxl"));
    expect(slim).toEqual({
      metadata: {
        name: "meshid-p1",
        namespace: "shop",
        resourceVersion: "7",
        annotations: { a: "b" },
      },
      type: "kubernetes.io/tls",
      data: { "ca.crt": "YnVuZGxl" },
    });
  });
});
