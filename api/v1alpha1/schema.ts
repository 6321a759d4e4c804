/**
 * The OpenAPI v3 schema of MeshIdentity: the single source of what the API server accepts. The CRD
 * in manifests/crd is generated from it (hack/gen-manifests.ts). Every field has a description,
 * so `kubectl explain` documents the whole resource, and every rule that iterates is bounded
 * (maxItems, maxLength, maxProperties) to stay within the CEL cost budget.
 */
import type { JSONSchemaProps } from "./json-schema";
import { specSchema } from "./schema-spec";
import { statusSchema } from "./schema-status";

export type { JSONSchemaProps, ValidationRule } from "./json-schema";

/** meshIdentitySchema is the openAPIV3Schema of MeshIdentity v1alpha1. */
export const meshIdentitySchema: JSONSchemaProps = {
  type: "object",
  description:
    "MeshIdentity gives every selected pod of a workload its own short-lived X.509 certificate " +
    "(a SPIFFE identity for mTLS), delivered into the pod and renewed well before it expires.",
  required: ["spec"],
  properties: {
    apiVersion: {
      type: "string",
      description:
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    },
    kind: {
      type: "string",
      description:
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    },
    // The API server forbids anything but the type here: metadata is documented by Kubernetes.
    metadata: { type: "object" },
    spec: specSchema,
    status: statusSchema,
  },
};
