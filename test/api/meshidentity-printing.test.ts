/**
 * What users see: `kubectl get` prints the printer columns from the status the operator writes
 * through the /status subresource, and `kubectl explain` prints the schema's descriptions.
 */
import * as k8s from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CONDITION_READY,
  GROUP,
  PLURAL,
  Reason,
  VERSION,
  meshIdentitySchema,
  type JSONSchemaProps,
  type MeshIdentity,
  type MeshIdentityStatus,
} from "../../api/v1alpha1";
import { createNamespace, kubectl, statusCode, testKubeConfig } from "../support/kube";

const kc = testKubeConfig();
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const mergePatch = { headers: { "Content-Type": "application/merge-patch+json" } };
const minimalSample = readFileSync(
  join(__dirname, "..", "..", "manifests", "samples", "meshidentity-minimal.yaml"),
  "utf8",
);

const status: MeshIdentityStatus = {
  observedGeneration: 1,
  selectedPods: 3,
  issuedPods: 2,
  nextRenewalTime: "2026-11-29T02:10:00Z",
  conditions: [
    {
      type: CONDITION_READY,
      status: "False",
      reason: Reason.Pending,
      message: "2/3 pods hold a current certificate",
      lastTransitionTime: "2026-11-28T10:00:00Z",
      observedGeneration: 1,
    },
  ],
};

/** writeStatus replaces the status of MeshIdentity `payments` through the /status subresource. */
function writeStatus(namespace: string, body: unknown) {
  return custom.patchNamespacedCustomObjectStatus(
    GROUP,
    VERSION,
    namespace,
    PLURAL,
    "payments",
    { status: body },
    undefined,
    undefined,
    undefined,
    mergePatch,
  );
}

/** table splits kubectl's table output into the header line and the row of `payments`. */
function table(out: string): { header: string; row: string } {
  const lines = out.trimEnd().split("\n");
  return { header: lines[0] ?? "", row: lines.find((l) => l.startsWith("payments ")) ?? "" };
}

describe("kubectl get meshidentities", () => {
  it.each([["meshidentities"], ["mid"], ["meshidentity.v1alpha1.meshid.dev"]])(
    "prints NAME READY SELECTED ISSUED NEXT RENEWAL AGE with `kubectl get %s`, filled from the status",
    async (resource) => {
      const ns = await createNamespace(kc, "print");
      await kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], minimalSample);
      await writeStatus(ns, status);

      const { header, row } = table(await kubectl(["get", resource, "-n", ns]));
      expect(header).toMatch(/^NAME\s+READY\s+SELECTED\s+ISSUED\s+NEXT RENEWAL\s+AGE$/);
      expect(row).toMatch(/^payments\s+False\s+3\s+2\s+2026-11-29T02:10:00Z\s+\d+s$/);
    },
  );

  it("adds the Ready condition's reason with -o wide", async () => {
    const ns = await createNamespace(kc, "wide");
    await kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], minimalSample);
    await writeStatus(ns, status);
    const { header, row } = table(await kubectl(["get", "mid", "-n", ns, "-o", "wide"]));
    expect(header).toMatch(/\sAGE\s+REASON$/);
    expect(row).toMatch(/\sPending$/);
  });

  it("prints empty columns before the operator has written a status", async () => {
    const ns = await createNamespace(kc, "fresh");
    await kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], minimalSample);
    const { row } = table(await kubectl(["get", "mid", "-n", ns]));
    expect(row).toMatch(/^payments\s+\d+s$/);
  });

  it("lists MeshIdentities under the category meshid", async () => {
    const ns = await createNamespace(kc, "cat");
    await kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], minimalSample);
    // The category also holds the cluster-scoped MeshCA, once an operator has created it.
    const names = (await kubectl(["get", "meshid", "-n", ns, "-o", "name"])).trim().split("\n");
    expect(names.filter((n) => !n.startsWith("meshca.meshid.dev/"))).toEqual([
      "meshidentity.meshid.dev/payments",
    ]);
  });
});

describe("the status subresource", () => {
  it("ignores a status sent with the object and keeps the status written through /status", async () => {
    const ns = await createNamespace(kc, "status");
    const object = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: "MeshIdentity",
      metadata: { name: "payments" },
      spec: { selector: { matchLabels: { app: "payments" } } },
      status,
    };
    await custom.createNamespacedCustomObject(GROUP, VERSION, ns, PLURAL, object);
    const read = async () =>
      (
        (await custom.getNamespacedCustomObject(GROUP, VERSION, ns, PLURAL, "payments"))
          .body as MeshIdentity
      ).status;
    expect(await read()).toBeUndefined();
    await writeStatus(ns, status);
    expect(await read()).toEqual(status);
  });

  it.each<[string, unknown, string]>([
    ["refuses a negative pod count", { selectedPods: -1 }, "status.selectedPods"],
    [
      "refuses a condition status other than True, False or Unknown",
      { conditions: [{ ...status.conditions![0], status: "Yes" }] },
      "status.conditions[0].status",
    ],
    [
      "refuses a condition without reason",
      { conditions: [{ ...status.conditions![0], reason: undefined }] },
      "status.conditions[0].reason",
    ],
    [
      "refuses a next renewal time that is not a date",
      { nextRenewalTime: "tomorrow" },
      "status.nextRenewalTime",
    ],
  ])("%s, naming the field", async (_name, body, field) => {
    const ns = await createNamespace(kc, "badstatus");
    await kubectl(["apply", "--server-side", "-n", ns, "-f", "-"], minimalSample);
    const err: unknown = await writeStatus(ns, body).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(statusCode(err)).toBe(422);
    expect((err as { body?: { message?: string } }).body?.message).toContain(`${field}:`);
  });
});

/** words normalises whitespace, since kubectl explain wraps descriptions at 80 columns. */
const words = (text: string): string => text.replace(/\s+/g, " ").trim();

describe("kubectl explain", () => {
  const privateKey = meshIdentitySchema.properties?.spec?.properties?.privateKey as JSONSchemaProps;

  it("prints the description of meshidentity.spec.privateKey and of each of its fields", async () => {
    const out = words(await kubectl(["explain", "meshidentity.spec.privateKey"]));
    expect(out).toContain("FIELD: privateKey <Object>");
    expect(out).toContain(words(privateKey.description ?? "-"));
    for (const [name, field] of Object.entries(privateKey.properties ?? {})) {
      expect(out).toContain(`${name} <${field.type}>`);
      expect(out).toContain(words(field.description ?? "-"));
    }
    expect(out).toContain("enum: ECDSA, Ed25519, RSA");
    expect(out).toContain("enum: Always, Never");
  });

  it.each(Object.keys(meshIdentitySchema.properties?.spec?.properties ?? {}))(
    "documents spec.%s",
    async (field) => {
      const schema = meshIdentitySchema.properties?.spec?.properties?.[field];
      const out = words(await kubectl(["explain", `mid.spec.${field}`]));
      expect(out).toContain(words(schema?.description ?? "-"));
    },
  );
});
