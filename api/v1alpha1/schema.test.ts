/**
 * Properties of the schema the API server cannot check for us: every field is documented, every
 * list and map that CEL may iterate is bounded, and the shipped samples match the schema.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { buildCustomResourceDefinition, PRINTER_COLUMNS } from "./crd";
import { resolveSpec } from "./defaults";
import { API_VERSION, KIND } from "./names";
import { meshIdentitySchema, type JSONSchemaProps } from "./schema";
import type { MeshIdentity } from "./types";
import { resolvePodDnsNames } from "./validate";

/** walk visits every schema node with its path, e.g. `spec.dnsNames[]`. */
function walk(
  node: JSONSchemaProps,
  path: string,
  visit: (node: JSONSchemaProps, path: string) => void,
): void {
  visit(node, path);
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    walk(child, path === "" ? name : `${path}.${name}`, visit);
  }
  if (node.items) walk(node.items, `${path}[]`, visit);
  if (node.additionalProperties) walk(node.additionalProperties, `${path}{}`, visit);
}

function nodes(): [string, JSONSchemaProps][] {
  const out: [string, JSONSchemaProps][] = [];
  walk(meshIdentitySchema, "", (node, path) => out.push([path || "(root)", node]));
  return out;
}

const spec = meshIdentitySchema.properties?.spec;

describe("meshIdentitySchema", () => {
  // The API server documents metadata itself and refuses a description on it.
  it.each(nodes().filter(([path]) => path !== "metadata"))("documents %s", (_path, node) => {
    expect(node.description?.trim()).toBeTruthy();
  });

  it.each(nodes().filter(([, n]) => n.type === "array"))("bounds the list %s", (_path, node) => {
    expect(node.maxItems).toBeGreaterThan(0);
  });

  it.each(nodes().filter(([, n]) => n.additionalProperties))("bounds the map %s", (_path, node) => {
    expect(node.maxProperties).toBeGreaterThan(0);
  });

  it.each(nodes().filter(([, n]) => n.type === "string" && n["x-kubernetes-validations"]))(
    "bounds the string %s, which CEL rules read",
    (_path, node) => {
      expect(node.maxLength).toBeGreaterThan(0);
    },
  );

  it.each(
    nodes().flatMap(([path, n]) =>
      (n["x-kubernetes-validations"] ?? []).map((r) => [path, r.message] as const),
    ),
  )("gives the rule on %s a message (%s)", (_path, message) => {
    expect(message.length).toBeGreaterThan(10);
  });

  it("requires the spec and, in it, the selector", () => {
    expect(meshIdentitySchema.required).toEqual(["spec"]);
    expect(spec?.required).toEqual(["selector"]);
  });

  it("sets no schema defaults, so stored objects stay as written (defaults.ts applies them)", () => {
    expect(JSON.stringify(meshIdentitySchema)).not.toContain('"default"');
  });
});

describe("buildCustomResourceDefinition", () => {
  const crd = buildCustomResourceDefinition();

  it("names the resource meshidentities.meshid.dev, namespaced, short name mid, category meshid", () => {
    expect(crd.metadata.name).toBe("meshidentities.meshid.dev");
    expect(crd.spec.scope).toBe("Namespaced");
    expect(crd.spec.names).toMatchObject({
      kind: "MeshIdentity",
      plural: "meshidentities",
      singular: "meshidentity",
      shortNames: ["mid"],
      categories: ["meshid"],
    });
  });

  it("serves one stored version with a status subresource and the schema", () => {
    expect(crd.spec.versions).toHaveLength(1);
    expect(crd.spec.versions[0]).toMatchObject({
      name: "v1alpha1",
      served: true,
      storage: true,
      subresources: { status: {} },
      schema: { openAPIV3Schema: meshIdentitySchema },
    });
  });

  it("prints READY, SELECTED, ISSUED, NEXT RENEWAL and AGE by default", () => {
    const shown = PRINTER_COLUMNS.filter((c) => (c.priority ?? 0) === 0).map((c) =>
      c.name.toUpperCase(),
    );
    expect(shown).toEqual(["READY", "SELECTED", "ISSUED", "NEXT RENEWAL", "AGE"]);
  });
});

describe("the samples in manifests/samples", () => {
  const samplesDir = join(__dirname, "..", "..", "manifests", "samples");
  const load = (file: string) =>
    parse(readFileSync(join(samplesDir, file), "utf8")) as MeshIdentity;

  it.each(["meshidentity-minimal.yaml", "meshidentity-complete.yaml"])(
    "%s is a MeshIdentity whose spec resolves and whose DNS names are allowed in any namespace",
    (file) => {
      const sample = load(file);
      expect(sample.apiVersion).toBe(API_VERSION);
      expect(sample.kind).toBe(KIND);
      const resolved = resolveSpec(sample.spec);
      const values = { POD_NAME: "p-1", POD_NAMESPACE: "any-ns", SERVICE_ACCOUNT: "payments" };
      const policy = { clusterDomain: "cluster.local", extraSuffixes: [] };
      expect(resolvePodDnsNames(resolved.dnsNames, values, policy)).toMatchObject({ ok: true });
    },
  );

  const specFields: string[] = [];
  walk(spec ?? {}, "", (node, path) => {
    if (path !== "" && !path.includes("[]") && !path.includes("{}")) specFields.push(path);
  });

  it.each(specFields)("the complete sample sets spec.%s", (path) => {
    const sample = load("meshidentity-complete.yaml") as unknown as {
      spec: Record<string, unknown>;
    };
    const value = path
      .split(".")
      .reduce<unknown>(
        (obj, key) => (obj as Record<string, unknown> | undefined)?.[key],
        sample.spec,
      );
    expect(value).toBeDefined();
  });
});
