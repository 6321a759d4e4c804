/**
 * Helpers for tests that drive meshid through the API server: MeshIdentities, pods, the issued
 * Secrets, and an independent check of each issued chain with openssl.
 */
import * as k8s from "@kubernetes/client-node";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MeshIdentity, MeshIdentitySpec } from "../../api/v1alpha1/types";
import { GROUP, PLURAL, VERSION } from "../../api/v1alpha1/names";
import { testKubeConfig } from "./kube";

const kc = testKubeConfig();
/** core is a CoreV1Api client of the test cluster. */
export const core = kc.makeApiClient(k8s.CoreV1Api);
/** custom is a CustomObjectsApi client of the test cluster. */
export const custom = kc.makeApiClient(k8s.CustomObjectsApi);

/** createIdentity creates a MeshIdentity. */
export async function createIdentity(
  namespace: string,
  name: string,
  spec: MeshIdentitySpec,
): Promise<void> {
  await custom.createNamespacedCustomObject(GROUP, VERSION, namespace, PLURAL, {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: "MeshIdentity",
    metadata: { name },
    spec,
  });
}

/** getIdentity reads a MeshIdentity. */
export async function getIdentity(namespace: string, name: string): Promise<MeshIdentity> {
  const { body } = await custom.getNamespacedCustomObject(GROUP, VERSION, namespace, PLURAL, name);
  return body as MeshIdentity;
}

/** patchIdentitySpec merge-patches a MeshIdentity's spec. */
export async function patchIdentitySpec(
  namespace: string,
  name: string,
  spec: Partial<MeshIdentitySpec>,
): Promise<void> {
  await custom.patchNamespacedCustomObject(
    GROUP,
    VERSION,
    namespace,
    PLURAL,
    name,
    { spec },
    undefined,
    undefined,
    undefined,
    {
      headers: { "Content-Type": "application/merge-patch+json" },
    },
  );
}

/** deleteIdentity deletes a MeshIdentity. */
export async function deleteIdentity(namespace: string, name: string): Promise<void> {
  await custom.deleteNamespacedCustomObject(GROUP, VERSION, namespace, PLURAL, name);
}

/** createPod creates a pod that stays Pending (there is no scheduler or kubelet). */
export async function createPod(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  serviceAccount = "default",
): Promise<k8s.V1Pod> {
  const { body } = await core.createNamespacedPod(namespace, {
    metadata: { name, labels },
    spec: {
      serviceAccountName: serviceAccount,
      containers: [{ name: "app", image: "meshid-test-app" }],
    },
  });
  return body;
}

/** createPods creates `count` pods named prefix-0..n-1, a few at a time. */
export async function createPods(
  namespace: string,
  prefix: string,
  count: number,
  labels: Record<string, string>,
  serviceAccount = "default",
): Promise<void> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (let i = 0; i < names.length; i += 20) {
    await Promise.all(
      names.slice(i, i + 20).map((n) => createPod(namespace, n, labels, serviceAccount)),
    );
  }
}

/** managedSecrets lists the Secrets meshid issued in a namespace. */
export async function managedSecrets(namespace: string): Promise<k8s.V1Secret[]> {
  const { body } = await core.listNamespacedSecret(
    namespace,
    undefined,
    undefined,
    undefined,
    undefined,
    "meshid.dev/managed=true",
  );
  return body.items;
}

/** secretText decodes one key of a Secret. */
export function secretText(secret: k8s.V1Secret, key: string): string {
  return Buffer.from(secret.data?.[key] ?? "", "base64").toString("utf8");
}

/** splitPem splits concatenated PEM blocks. */
export function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----\n?/g) ?? [];
}

/**
 * opensslVerify checks an issued Secret's chain independently: leaf against the intermediate in
 * tls.crt and the root in ca.crt, for both TLS purposes. Returns the leaf's `openssl x509 -text`.
 */
export function opensslVerify(secret: k8s.V1Secret): string {
  return opensslVerifyChain(secretText(secret, "tls.crt"), secretText(secret, "ca.crt"));
}

/**
 * opensslVerifyChain checks a leaf-first chain (leaf, intermediates) against a trust bundle with
 * `openssl verify`, for both TLS purposes, and returns the leaf's `openssl x509 -text`.
 */
export function opensslVerifyChain(chainPem: string, bundlePem: string): string {
  const dir = mkdtempSync(join(tmpdir(), "meshid-verify-"));
  try {
    const [leaf, ...chain] = splitPem(chainPem);
    writeFileSync(join(dir, "leaf.pem"), leaf ?? "");
    writeFileSync(join(dir, "chain.pem"), chain.join(""));
    writeFileSync(join(dir, "root.pem"), bundlePem);
    for (const purpose of ["sslserver", "sslclient"]) {
      execFileSync(
        "openssl",
        [
          "verify",
          "-CAfile",
          "root.pem",
          "-untrusted",
          "chain.pem",
          "-purpose",
          purpose,
          "leaf.pem",
        ],
        {
          cwd: dir,
          stdio: "pipe",
        },
      );
    }
    return execFileSync("openssl", ["x509", "-in", "leaf.pem", "-noout", "-text"], {
      cwd: dir,
      encoding: "utf8",
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** readyCondition returns the Ready condition of a MeshIdentity's status. */
export function readyCondition(
  mi: MeshIdentity,
): { status: string; reason: string; message: string } | undefined {
  return mi.status?.conditions?.find((c) => c.type === "Ready");
}
