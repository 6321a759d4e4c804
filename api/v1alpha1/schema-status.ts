/**
 * The schema of MeshIdentity.status: Kubernetes-style conditions (a list map keyed by type) and the
 * counts and time the printer columns show.
 */
import { CONDITION_READY, Reason } from "./conditions";
import { wordList, type JSONSchemaProps } from "./json-schema";

const conditionSchema: JSONSchemaProps = {
  type: "object",
  description: "One aspect of the MeshIdentity's state (the same shape as metav1.Condition).",
  required: ["type", "status", "reason", "message", "lastTransitionTime"],
  properties: {
    type: {
      type: "string",
      description: `The condition type. MeshIdentity reports ${CONDITION_READY}.`,
      maxLength: 316,
      pattern:
        "^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
    },
    status: {
      type: "string",
      description: "True, False or Unknown.",
      enum: ["True", "False", "Unknown"],
    },
    reason: {
      type: "string",
      description: `Why the condition has its status, as one CamelCase word: ${wordList(Object.values(Reason), "or")}.`,
      minLength: 1,
      maxLength: 1024,
      pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
    },
    message: {
      type: "string",
      description: "A human-readable explanation of the reason.",
      maxLength: 32768,
    },
    lastTransitionTime: {
      type: "string",
      format: "date-time",
      description: "When the status last changed.",
    },
    observedGeneration: {
      type: "integer",
      format: "int64",
      minimum: 0,
      description: "The metadata.generation the condition was computed from.",
    },
  },
};

/** statusSchema is the schema of MeshIdentity.status, written only by the operator. */
export const statusSchema: JSONSchemaProps = {
  type: "object",
  description: "The observed state, written by the operator through the status subresource.",
  properties: {
    observedGeneration: {
      type: "integer",
      format: "int64",
      minimum: 0,
      description: "The metadata.generation this status was computed from.",
    },
    conditions: {
      type: "array",
      description: `The current conditions. ${CONDITION_READY} is True when every selected pod holds a current certificate.`,
      maxItems: 8,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
      items: conditionSchema,
    },
    selectedPods: {
      type: "integer",
      format: "int32",
      minimum: 0,
      description:
        "How many pods the MeshIdentity selects and issues for (pods lost to an older MeshIdentity not counted).",
    },
    issuedPods: {
      type: "integer",
      format: "int32",
      minimum: 0,
      description: "How many of the selected pods hold a current certificate.",
    },
    nextRenewalTime: {
      type: "string",
      format: "date-time",
      description: "The earliest time at which a selected pod's certificate is due for renewal.",
    },
  },
};
