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
  randomSuffix: () => "x7k2q",
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
    expect(result.injected?.secret).toBe("meshid-web-5d8f-x7k2q");
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
    [
      "a pod that already has the volume",
      review(pod({}, { volumes: [{ name: "meshid-identity" }] })),
    ],
  ])("lets %s pass unchanged", (_n, r) => {
    const result = admit(r, deps);
    expect(result.status).toBe(200);
    expect(patchOf(result)).toEqual([]);
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
  ])("refuses a malformed review (%s) with 400", (_n, body) => {
    const result = admit(body, deps);
    expect(result.status).toBe(400);
    expect((result.body as { error: string }).error).toBeTruthy();
  });
});
