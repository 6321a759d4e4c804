import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig, type V1Lease, type V1Secret } from "@kubernetes/client-node";
import { KubeClient } from "./client";
import { ApiError, isConflict, isNotFound } from "./errors";
import type { RawRequest } from "./raw";

/** Seen is one request the local API server received. */
interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** Reply is what the local API server answers. */
interface Reply {
  status: number;
  body?: unknown;
}

let server: http.Server;
let port: number;
let seen: Seen[] = [];
let reply: (req: Seen) => Reply = () => ({ status: 200, body: {} });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const text = Buffer.concat(chunks).toString("utf8");
      const s: Seen = {
        method: req.method ?? "",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      seen.push(s);
      const r = reply(s);
      res.writeHead(r.status, { "Content-Type": "application/json" });
      res.end(r.body === undefined ? "" : JSON.stringify(r.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  reply = () => ({ status: 200, body: {} });
});

function kubeConfig(serverUrl: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "local", server: serverUrl, skipTLSVerify: true }],
    users: [{ name: "meshid", token: "t0ken" }],
    contexts: [{ name: "local", cluster: "local", user: "meshid" }],
    currentContext: "local",
  });
  return kc;
}

const client = () => new KubeClient(kubeConfig(`http://127.0.0.1:${port}`));

const status = (code: number, reason: string, message: string): Reply => ({
  status: code,
  body: { kind: "Status", apiVersion: "v1", status: "Failure", reason, message, code },
});

const secret: V1Secret = {
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: "meshid-p1", namespace: "ns", resourceVersion: "7" },
  data: { "tls.crt": "Y3J0" },
};

describe("KubeClient", () => {
  it.each<[string, string, string, string | undefined, (c: KubeClient) => Promise<unknown>]>([
    [
      "getSecret",
      "GET",
      "/api/v1/namespaces/ns/secrets/meshid-p1",
      undefined,
      (c) => c.getSecret("ns", "meshid-p1"),
    ],
    [
      "createSecret",
      "POST",
      "/api/v1/namespaces/ns/secrets",
      "application/json",
      (c) => c.createSecret("ns", secret),
    ],
    [
      "replaceSecret",
      "PUT",
      "/api/v1/namespaces/ns/secrets/meshid-p1",
      "application/json",
      (c) => c.replaceSecret("ns", secret),
    ],
    [
      "getConfigMap",
      "GET",
      "/api/v1/namespaces/ns/configmaps/meshid-ca-bundle",
      undefined,
      (c) => c.getConfigMap("ns", "meshid-ca-bundle"),
    ],
    [
      "createConfigMap",
      "POST",
      "/api/v1/namespaces/ns/configmaps",
      "application/json",
      (c) => c.createConfigMap("ns", { metadata: { name: "meshid-ca-bundle" } }),
    ],
    [
      "replaceConfigMap",
      "PUT",
      "/api/v1/namespaces/ns/configmaps/meshid-ca-bundle",
      "application/json",
      (c) => c.replaceConfigMap("ns", { metadata: { name: "meshid-ca-bundle" } }),
    ],
    [
      "createEvent",
      "POST",
      "/api/v1/namespaces/ns/events",
      "application/json",
      (c) => c.createEvent("ns", { metadata: {}, involvedObject: {} }),
    ],
    [
      "patchMeshIdentityStatus",
      "PATCH",
      "/apis/meshid.dev/v1alpha1/namespaces/ns/meshidentities/payments/status",
      "application/merge-patch+json",
      (c) => c.patchMeshIdentityStatus("ns", "payments", { issuedPods: 1 }),
    ],
    [
      "getMutatingWebhookConfiguration",
      "GET",
      "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/meshid",
      undefined,
      (c) => c.getMutatingWebhookConfiguration("meshid"),
    ],
    [
      "patchMutatingWebhookConfiguration",
      "PATCH",
      "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/meshid",
      "application/json-patch+json",
      (c) => c.patchMutatingWebhookConfiguration("meshid", []),
    ],
    [
      "get (Lease)",
      "GET",
      "/apis/coordination.k8s.io/v1/namespaces/meshid-system/leases/meshid",
      undefined,
      (c) => c.get("meshid-system", "meshid"),
    ],
  ])(
    "%s sends %s %s with the token, and names meshid's field manager on writes only",
    async (_name, method, path, contentType, call) => {
      await call(client());
      expect(seen).toHaveLength(1);
      const [req] = seen;
      expect(req).toMatchObject({ method, path });
      expect(req!.headers.authorization).toBe("Bearer t0ken");
      expect(req!.headers["content-type"]).toBe(contentType);
      expect(req!.query.getAll("fieldManager")).toEqual(
        method === "GET" ? [] : ["meshid-operator"],
      );
    },
  );

  it("createSecret POSTs the Secret to the namespace's secrets with fieldManager=meshid-operator and resolves with the stored object", async () => {
    reply = (req) => ({ status: 201, body: { ...(req.body as object), stored: true } });
    const created = await client().createSecret("ns", secret);
    expect(seen[0]!.method).toBe("POST");
    expect(seen[0]!.path).toBe("/api/v1/namespaces/ns/secrets");
    expect(seen[0]!.query.get("fieldManager")).toBe("meshid-operator");
    expect(seen[0]!.body).toEqual(secret);
    expect(created).toEqual({ ...secret, stored: true });
  });

  it("escapes names in the path", async () => {
    await client().getSecret("ns", "a/b c");
    expect(seen[0]!.path).toBe("/api/v1/namespaces/ns/secrets/a%2Fb%20c");
  });

  it.each<[string, (c: KubeClient) => Promise<unknown>]>([
    ["getSecret", (c) => c.getSecret("ns", "gone")],
    ["getConfigMap", (c) => c.getConfigMap("ns", "gone")],
    ["getMutatingWebhookConfiguration", (c) => c.getMutatingWebhookConfiguration("gone")],
    ["get (Lease)", (c) => c.get("ns", "gone")],
  ])("%s resolves undefined on 404", async (_name, call) => {
    reply = () => status(404, "NotFound", "not found");
    await expect(call(client())).resolves.toBeUndefined();
  });

  it("rejects a 409 with an ApiError for which isConflict is true, carrying the server's reason and message", async () => {
    reply = () => status(409, "AlreadyExists", 'secrets "meshid-p1" already exists');
    const err = await client()
      .createSecret("ns", secret)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ApiError);
    expect(isConflict(err)).toBe(true);
    expect(isNotFound(err)).toBe(false);
    expect(err).toMatchObject({ statusCode: 409, reason: "AlreadyExists", retryable: true });
    expect((err as Error).message).toContain('secrets "meshid-p1" already exists');
  });

  it("rejects a server error on a read instead of taking it for absence", async () => {
    reply = () => status(500, "InternalError", "etcd is down");
    await expect(client().getSecret("ns", "meshid-p1")).rejects.toMatchObject({
      statusCode: 500,
      reason: "InternalError",
    });
  });

  it("deleteSecret sends DeleteOptions with the uid as a precondition and no field manager", async () => {
    await client().deleteSecret("ns", "meshid-p1", "uid-1");
    expect(seen[0]).toMatchObject({
      method: "DELETE",
      path: "/api/v1/namespaces/ns/secrets/meshid-p1",
      body: { kind: "DeleteOptions", apiVersion: "v1", preconditions: { uid: "uid-1" } },
    });
    expect(seen[0]!.query.has("fieldManager")).toBe(false);
  });

  it("deleteSecret without a uid sends no precondition", async () => {
    await client().deleteSecret("ns", "meshid-p1");
    expect(seen[0]!.body).toEqual({ kind: "DeleteOptions", apiVersion: "v1" });
  });

  it("deleteSecret ignores a 404 and rejects a failed precondition (409)", async () => {
    reply = () => status(404, "NotFound", "gone");
    await expect(client().deleteSecret("ns", "meshid-p1", "uid-1")).resolves.toBeUndefined();
    reply = () => status(409, "Conflict", "Precondition failed: UID in precondition: uid-1");
    const err: unknown = await client()
      .deleteSecret("ns", "meshid-p1", "uid-1")
      .catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
  });

  it("writes Lease times as MicroTime with six fractional digits", async () => {
    const lease: V1Lease = {
      metadata: { name: "meshid", namespace: "meshid-system" },
      spec: {
        holderIdentity: "pod-a",
        acquireTime: new Date("2026-11-28T12:00:00.123Z"),
        renewTime: new Date("2026-11-28T12:00:01.5Z"),
      },
    };
    await client().create("meshid-system", lease);
    expect(seen[0]).toMatchObject({
      method: "POST",
      path: "/apis/coordination.k8s.io/v1/namespaces/meshid-system/leases",
      body: {
        spec: {
          holderIdentity: "pod-a",
          acquireTime: "2026-11-28T12:00:00.123000Z",
          renewTime: "2026-11-28T12:00:01.500000Z",
        },
      },
    });
  });

  it.each<[string, RawRequest]>([
    ["deleting a ConfigMap", { method: "DELETE", path: "/api/v1/namespaces/ns/configmaps/x" }],
    ["deleting a pod", { method: "DELETE", path: "/api/v1/namespaces/ns/pods/p1" }],
    [
      "patching a MeshIdentity's spec",
      { method: "PATCH", path: "/apis/meshid.dev/v1alpha1/namespaces/ns/meshidentities/x" },
    ],
  ])(
    "refuses %s, which permissions.ts does not declare, without sending a request",
    async (_name, req) => {
      const c = client();
      const request = (c as unknown as { request(r: RawRequest): Promise<unknown> }).request.bind(
        c,
      );
      await expect(request(req)).rejects.toMatchObject({
        reason: "PermissionNotDeclared",
        statusCode: undefined,
      });
      expect(seen).toEqual([]);
      expect(c.stats).toEqual({ reads: 0, writes: 0 });
    },
  );

  it("counts reads and writes, failed ones included", async () => {
    const c = client();
    await c.getSecret("ns", "a");
    await c.getConfigMap("ns", "meshid-ca-bundle");
    await c.createSecret("ns", secret);
    await c.deleteSecret("ns", "a");
    reply = () => status(404, "NotFound", "gone");
    await c.getSecret("ns", "b");
    reply = () => status(409, "Conflict", "stale");
    await c.replaceSecret("ns", secret).catch(() => undefined);
    expect(c.stats).toEqual({ reads: 3, writes: 3 });
    expect(seen).toHaveLength(6);
  });

  it("rejects with an Unreachable ApiError when nothing listens", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const c = new KubeClient(kubeConfig(`http://127.0.0.1:${deadPort}`));
    await expect(c.getSecret("ns", "a")).rejects.toMatchObject({
      reason: "Unreachable",
      statusCode: undefined,
      retryable: true,
    });
  });
});
