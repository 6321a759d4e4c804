import type { V1Pod } from "@kubernetes/client-node";
import type { MeshIdentity } from "../../api/v1alpha1/types";
import { admit } from "./admission";

const identity: MeshIdentity = {
  apiVersion: "meshid.dev/v1alpha1",
  kind: "MeshIdentity",
  metadata: { name: "web", namespace: "shop", creationTimestamp: new Date("2026-01-01T00:00:00Z") },
  spec: { selector: { matchLabels: { app: "web" } } },
};
const deps = {
  identities: (ns: string) => (ns === "shop" ? [identity] : []),
  randomToken: () => "x7k2qb4d5f",
};

const pod = (over: Partial<V1Pod["metadata"]> = {}, spec: Partial<V1Pod["spec"]> = {}): V1Pod => ({
  metadata: { name: "web-0", labels: { app: "web" }, ...over },
  spec: {
    containers: [
      { name: "a", image: "i" },
      { name: "b", image: "i", volumeMounts: [{ name: "data", mountPath: "/data" }] },
    ],
    ...spec,
  },
});

const review = (object: unknown, extra: Record<string, unknown> = {}) => ({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: {
    uid: "u1",
    kind: { kind: "Pod" },
    operation: "CREATE",
    namespace: "shop",
    object,
    ...extra,
  },
});

function patchOf(result: ReturnType<typeof admit>): { op: string; path: string; value: unknown }[] {
  const r = (result.body as { response: { patch?: string } }).response;
  return r.patch
    ? (JSON.parse(Buffer.from(r.patch, "base64").toString()) as {
        op: string;
        path: string;
        value: unknown;
      }[])
    : [];
}

describe("admit", () => {
  it("adds the volume, a read-only mount in every container and the annotation to a selected pod", () => {
    const result = admit(review(pod()), deps);
    expect(result.status).toBe(200);
    expect((result.body as { response: { allowed: boolean; uid: string } }).response).toMatchObject(
      { allowed: true, uid: "u1" },
    );
    expect(patchOf(result)).toEqual([
      {
        op: "add",
        path: "/spec/volumes",
        value: [
          { name: "meshid-identity", secret: { secretName: "meshid-web-0", defaultMode: 0o440 } },
        ],
      },
      {
        op: "add",
        path: "/spec/containers/0/volumeMounts",
        value: [
          { name: "meshid-identity", mountPath: "/var/run/secrets/meshid.dev", readOnly: true },
        ],
      },
      {
        op: "add",
        path: "/spec/containers/1/volumeMounts/-",
        value: {
          name: "meshid-identity",
          mountPath: "/var/run/secrets/meshid.dev",
          readOnly: true,
        },
      },
      { op: "add", path: "/metadata/annotations", value: { "meshid.dev/secret": "meshid-web-0" } },
    ]);
  });

  it("generates a Secret name for a pod the API server has not named yet", () => {
    const result = admit(review(pod({ name: undefined, generateName: "web-5d8f-" })), deps);
    expect(result.injected?.secret).toBe("meshid.web-5d8f-x7k2qb4d5f");
  });

  it("adds to existing annotations with an escaped key", () => {
    const ops = patchOf(admit(review(pod({ annotations: { a: "b" } })), deps));
    expect(ops.at(-1)).toEqual({
      op: "add",
      path: "/metadata/annotations/meshid.dev~1secret",
      value: "meshid-web-0",
    });
  });

  it.each([
    ["a pod no MeshIdentity selects", review(pod({ labels: { app: "other" } }))],
    ["a pod of a namespace without MeshIdentities", review(pod(), { namespace: "bank" })],
    ["an UPDATE", review(pod(), { operation: "UPDATE" })],
    ["another kind", review(pod(), { kind: { kind: "Service" } })],
  ])("lets %s pass unchanged", (_n, r) => {
    const result = admit(r, deps);
    expect(result.status).toBe(200);
    expect(patchOf(result)).toEqual([]);
  });

  it.each([
    [
      "declares meshid's volume",
      pod({}, { volumes: [{ name: "meshid-identity", secret: { secretName: "meshid-victim" } }] }),
    ],
    [
      "mounts another pod's identity Secret under another volume name",
      pod({}, { volumes: [{ name: "x", secret: { secretName: "meshid-web-1" } }] }),
    ],
    [
      "mounts a generated identity Secret through a projected volume",
      pod(
        {},
        {
          volumes: [
            { name: "x", projected: { sources: [{ secret: { name: "meshid.web-abcdefghij" } }] } },
          ],
        },
      ),
    ],
    [
      "sets meshid's annotation itself",
      pod({ annotations: { "meshid.dev/secret": "meshid-victim" } }),
    ],
    [
      "already mounts something at meshid's path",
      pod(
        {},
        {
          containers: [
            {
              name: "a",
              image: "i",
              volumeMounts: [{ name: "d", mountPath: "/var/run/secrets/meshid.dev/" }],
            },
          ],
        },
      ),
    ],
    [
      "reads an identity Secret into a container's environment (envFrom)",
      pod(
        {},
        {
          containers: [
            { name: "a", image: "i", envFrom: [{ secretRef: { name: "meshid-web-1" } }] },
          ],
        },
      ),
    ],
    [
      "reads one key of an identity Secret into an init container's environment",
      pod(
        {},
        {
          initContainers: [
            {
              name: "i",
              image: "i",
              env: [
                {
                  name: "K",
                  valueFrom: { secretKeyRef: { name: "meshid.web-abcdefghij", key: "tls.key" } },
                },
              ],
            },
          ],
        },
      ),
    ],
    [
      "is not selected but mounts an identity Secret",
      pod(
        { labels: { app: "other" } },
        { volumes: [{ name: "x", secret: { secretName: "meshid-web-1" } }] },
      ),
    ],
  ])("refuses a pod that %s, saying why", (_n, p) => {
    const result = admit(review(p), deps);
    expect(result.status).toBe(200);
    const response = (
      result.body as {
        response: { allowed: boolean; uid: string; status: { code: number; message: string } };
      }
    ).response;
    expect(response).toMatchObject({ allowed: false, uid: "u1", status: { code: 403 } });
    expect(response.status.message).toMatch(/^meshid refused the pod: /);
    expect(patchOf(result)).toEqual([]);
  });

  it("refuses an ephemeral container that reads an identity Secret into its environment", () => {
    const debug = pod(
      {},
      {
        ephemeralContainers: [
          { name: "dbg", image: "i", envFrom: [{ secretRef: { name: "meshid-web-1" } }] },
        ],
      },
    );
    const result = admit(
      review(debug, { operation: "UPDATE", subResource: "ephemeralcontainers" }),
      deps,
    );
    const response = (
      result.body as { response: { allowed: boolean; status?: { message: string } } }
    ).response;
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toMatch(/container "dbg" reads Secret "meshid-web-1"/);
  });

  it("refuses an ephemeral container that mounts the pod's identity volume", () => {
    const debug = pod(
      {},
      {
        volumes: [{ name: "meshid-identity", secret: { secretName: "meshid-web-0" } }],
        ephemeralContainers: [
          {
            name: "dbg",
            image: "i",
            volumeMounts: [{ name: "meshid-identity", mountPath: "/steal" }],
          },
        ],
      },
    );
    const result = admit(
      review(debug, { operation: "UPDATE", subResource: "ephemeralcontainers" }),
      deps,
    );
    const response = (
      result.body as { response: { allowed: boolean; status?: { message: string } } }
    ).response;
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toMatch(
      /ephemeral container "dbg" mounts volume "meshid-identity"/,
    );
  });

  it.each([
    [
      "csi nodePublishSecretRef",
      { name: "c", csi: { driver: "d", nodePublishSecretRef: { name: "meshid-web-1" } } },
    ],
    [
      "azureFile secretName",
      { name: "a", azureFile: { secretName: "meshid-web-1", shareName: "s" } },
    ],
    [
      "cephfs secretRef",
      { name: "c", cephfs: { monitors: ["m"], secretRef: { name: "meshid.web-abcdefghij" } } },
    ],
    [
      "flexVolume secretRef",
      { name: "f", flexVolume: { driver: "d", secretRef: { name: "meshid-web-1" } } },
    ],
  ])("refuses a pod whose volume refers to an identity Secret through %s", (_n, volume) => {
    const result = admit(review(pod({ labels: { app: "other" } }, { volumes: [volume] })), deps);
    const response = (
      result.body as { response: { allowed: boolean; status?: { message: string } } }
    ).response;
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toMatch(/a volume refers to Secret "meshid[-.]/);
  });

  it("refuses a selected pod whose name is too long to hold an identity, saying the limit", () => {
    const result = admit(review(pod({ name: `web-${"a".repeat(243)}` })), deps);
    const response = (
      result.body as { response: { allowed: boolean; status?: { message: string } } }
    ).response;
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toMatch(/at most 246/);
  });

  it("refuses a mount path longer than PATH_MAX with 400, and reads a long run of slashes", () => {
    const p = pod(
      {},
      {
        containers: [
          {
            name: "a",
            image: "i",
            volumeMounts: [{ name: "d", mountPath: `${"/".repeat(150_000)}a` }],
          },
        ],
      },
    );
    expect(admit(review(p), deps).status).toBe(400);
    const q = pod(
      {},
      {
        containers: [
          {
            name: "a",
            image: "i",
            volumeMounts: [{ name: "d", mountPath: `${"/".repeat(4_000)}a` }],
          },
        ],
      },
    );
    expect(admit(review(q), deps).status).toBe(200);
  });

  it("lets an ephemeral container in that reads no identity Secret, and changes nothing", () => {
    const debug = pod(
      {},
      {
        volumes: [{ name: "meshid-identity", secret: { secretName: "meshid-web-0" } }],
        ephemeralContainers: [{ name: "dbg", image: "i" }],
      },
    );
    const result = admit(
      review(debug, { operation: "UPDATE", subResource: "ephemeralcontainers" }),
      deps,
    );
    expect((result.body as { response: { allowed: boolean } }).response.allowed).toBe(true);
    expect(patchOf(result)).toEqual([]);
  });

  it("lets a pod mount a Secret of its own that meshid does not reserve", () => {
    const result = admit(
      review(pod({}, { volumes: [{ name: "cfg", secret: { secretName: "web-config" } }] })),
      deps,
    );
    expect((result.body as { response: { allowed: boolean } }).response.allowed).toBe(true);
    expect(patchOf(result).length).toBeGreaterThan(0);
  });

  it("answers a dry-run request the same way (the webhook has no side effects)", () => {
    expect(patchOf(admit(review(pod(), { dryRun: true }), deps))).toEqual(
      patchOf(admit(review(pod()), deps)),
    );
  });

  it.each([
    ["not an object", "hello"],
    ["the wrong kind", { apiVersion: "admission.k8s.io/v1", kind: "Pod" }],
    ["no request uid", { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: {} }],
    ["a pod without containers", review({ metadata: { name: "x" }, spec: {} })],
    ["volumes that are an object", review(pod({}, { volumes: {} as never }))],
    ["a null container", review(pod({}, { containers: [null] as never }))],
    ["a container that is a string", review(pod({}, { containers: ["c"] as never }))],
    ["a label whose value is a number", review(pod({ labels: { app: 1 } as never }))],
    ["annotations that are an array", review(pod({ annotations: [] as never }))],
    ["a volume without a name", review(pod({}, { volumes: [{}] as never }))],
    [
      "a secretName that is an object",
      review(pod({}, { volumes: [{ name: "v", secret: { secretName: {} } }] as never })),
    ],
    [
      "volumeMounts that are a number",
      review(pod({}, { containers: [{ name: "a", volumeMounts: 5 }] as never })),
    ],
    [
      "a request uid that is a number",
      { ...review(pod()), request: { ...review(pod()).request, uid: 7 } },
    ],
    ["dryRun that is a string", review(pod(), { dryRun: "yes" })],
    [
      "far too many containers",
      review(pod({}, { containers: Array.from({ length: 6000 }, () => ({ name: "c" })) })),
    ],
  ])("refuses a malformed review (%s) with 400", (_n, body) => {
    const result = admit(body, deps);
    expect(result.status).toBe(400);
    expect((result.body as { error: string }).error).toBeTruthy();
  });
});

describe("admit with PodCertificate delivery", () => {
  const withDelivery = (spec: Partial<MeshIdentity["spec"]>) => ({
    identities: () => [
      { ...identity, spec: { ...identity.spec, delivery: "PodCertificate" as const, ...spec } },
    ],
    randomToken: () => "x7k2qb4d5f",
  });

  it("projects meshid's pod certificate and the trust bundle as tls.key, tls.crt and ca.crt, with no Secret annotation", () => {
    const result = admit(
      review(pod()),
      withDelivery({ duration: "2h", privateKey: { algorithm: "Ed25519" } }),
    );
    const ops = patchOf(result);
    expect(ops[0]).toEqual({
      op: "add",
      path: "/spec/volumes",
      value: [
        {
          name: "meshid-identity",
          projected: {
            defaultMode: 0o440,
            sources: [
              {
                podCertificate: {
                  signerName: "meshid.dev/identity",
                  keyType: "ED25519",
                  maxExpirationSeconds: 7200 + 120 + 60,
                  keyPath: "tls.key",
                  certificateChainPath: "tls.crt",
                },
              },
              {
                configMap: { name: "meshid-ca-bundle", items: [{ key: "ca.crt", path: "ca.crt" }] },
              },
            ],
          },
        },
      ],
    });
    expect(ops.map((o) => o.path)).toEqual([
      "/spec/volumes",
      "/spec/containers/0/volumeMounts",
      "/spec/containers/1/volumeMounts/-",
    ]);
    expect(result.injected?.secret).toBe("");
  });

  it("leaves maxExpirationSeconds to the API's default of 24h when the MeshIdentity sets no duration", () => {
    const ops = patchOf(admit(review(pod()), withDelivery({})));
    const volume = (
      ops[0]!.value as { projected: { sources: { podCertificate?: object }[] } }[]
    )[0]!;
    expect(volume.projected.sources[0]!.podCertificate).toEqual({
      signerName: "meshid.dev/identity",
      keyType: "ECDSAP256",
      keyPath: "tls.key",
      certificateChainPath: "tls.crt",
    });
  });

  it("refuses a pod when its MeshIdentity asks for RSA 2048 keys, which kubelet does not make", () => {
    const result = admit(
      review(pod()),
      withDelivery({ privateKey: { algorithm: "RSA", size: 2048 } }),
    );
    expect((result.body as { response: { allowed: boolean } }).response.allowed).toBe(false);
    expect(result.refused?.message).toMatch(/kubelet does not make/);
  });
});
