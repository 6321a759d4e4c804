/**
 * The schema of MeshIdentity.spec, with the defaults of defaults.ts stated in the descriptions.
 */
import {
  DEFAULT_DELIVERY,
  DEFAULT_DURATION,
  DEFAULT_ROTATION_POLICY,
  DEFAULT_USAGES,
} from "./defaults";
import { celList, wordList, type JSONSchemaProps } from "./json-schema";
import { MAX_DNS_NAME_LENGTH, MAX_DURATION, MIN_DURATION, MIN_RENEW_BEFORE } from "./limits";
import { DNS_SUBDOMAIN_PATTERN } from "./patterns";
import { dnsNamesSchema } from "./schema-dns-names";
import {
  celIsDuration,
  durationSchema,
  labelMapSchema,
  labelValueSchema,
  selectorSchema,
  withReservedKeyRule,
} from "./schema-fields";
import { DELIVERIES, KEY_ALGORITHMS, KEY_SIZES, KEY_USAGES, ROTATION_POLICIES } from "./types";

const privateKeySchema: JSONSchemaProps = {
  type: "object",
  description:
    "The private key of each certificate. The operator generates it and stores it only in the " +
    "pod's Secret. Default: ECDSA P-256, a new key at every renewal.",
  properties: {
    algorithm: {
      type: "string",
      description:
        `The key algorithm: ${wordList(KEY_ALGORITHMS, "or")}. Default ECDSA. Ed25519 is not supported by every TLS ` +
        "client; RSA keys are slow to generate.",
      enum: [...KEY_ALGORITHMS],
    },
    size: {
      type: "integer",
      description:
        `The key size in bits. ECDSA: ${wordList(KEY_SIZES.ECDSA, "or")} (default ${KEY_SIZES.ECDSA[0]}, ` +
        `the curve P-${KEY_SIZES.ECDSA[0]}). RSA: ${wordList(KEY_SIZES.RSA, "or")} (default ${KEY_SIZES.RSA[0]}). ` +
        "Ed25519: must not be set.",
    },
    rotationPolicy: {
      type: "string",
      description: `Whether a renewal generates a new key (Always) or keeps the key of the pod's current certificate (Never). Default ${DEFAULT_ROTATION_POLICY}.`,
      enum: [...ROTATION_POLICIES],
    },
  },
  "x-kubernetes-validations": [
    {
      rule: "!(has(self.algorithm) && self.algorithm == 'Ed25519' && has(self.size))",
      message: "must not be set for Ed25519 keys",
      fieldPath: ".size",
    },
    {
      rule: `!has(self.size) || (has(self.algorithm) && self.algorithm != 'ECDSA') || self.size in ${celList(KEY_SIZES.ECDSA)}`,
      message: `must be ${wordList(KEY_SIZES.ECDSA, "or")} for ECDSA keys (the default algorithm)`,
      fieldPath: ".size",
    },
    {
      rule: `!has(self.size) || !has(self.algorithm) || self.algorithm != 'RSA' || self.size in ${celList(KEY_SIZES.RSA)}`,
      message: `must be ${wordList(KEY_SIZES.RSA, "or")} for RSA keys`,
      fieldPath: ".size",
    },
  ],
};

const secretTemplateSchema: JSONSchemaProps = {
  type: "object",
  description:
    "Labels and annotations copied onto every Secret the operator issues for this MeshIdentity. " +
    "Keys under meshid.dev/ are the operator's own and may not be set here.",
  properties: {
    labels: withReservedKeyRule(
      labelMapSchema(
        "Labels for each issued Secret.",
        labelValueSchema("A label value: up to 63 letters, digits, '-', '_' or '.'."),
      ),
    ),
    annotations: withReservedKeyRule(
      labelMapSchema("Annotations for each issued Secret.", {
        type: "string",
        description: "An annotation value.",
      }),
    ),
  },
};

const durationDescription =
  `How long each certificate is valid: whole hours, minutes and seconds such as 90m, 24h or 1h30m, ` +
  `between ${MIN_DURATION} and ${MAX_DURATION}. Default ${DEFAULT_DURATION}. A certificate never ` +
  "outlives the CA that signs it.";

const renewBeforeDescription =
  "How long before a certificate expires the operator renews it, in the same form as duration; at " +
  `least ${MIN_RENEW_BEFORE} and less than duration. Default: a third of duration. Each pod's ` +
  "renewal is moved earlier by a random jitter of up to 10% of renewBefore, so pods issued together " +
  "do not renew together.";

/** specSchema is the schema of MeshIdentity.spec. */
export const specSchema: JSONSchemaProps = {
  type: "object",
  description:
    "The desired identity. Every selected pod gets its own certificate with the SPIFFE ID " +
    "spiffe://<trust domain>/ns/<namespace>/sa/<service account>, derived from the pod, never " +
    "requested.",
  required: ["selector"],
  properties: {
    selector: selectorSchema,
    serviceAccountName: {
      type: "string",
      description:
        "When set, only selected pods running as this service account receive the identity. A " +
        "DNS-1123 subdomain. Default: pods of any service account (each still gets the SPIFFE ID of " +
        "its own service account).",
      maxLength: MAX_DNS_NAME_LENGTH,
      pattern: DNS_SUBDOMAIN_PATTERN,
    },
    dnsNames: dnsNamesSchema,
    includePodIP: {
      type: "boolean",
      description:
        "Add the pod's IP address as an IP subject alternative name. The certificate is issued " +
        "again once the pod has an IP. Default false.",
    },
    duration: durationSchema(durationDescription, MIN_DURATION, MAX_DURATION),
    renewBefore: durationSchema(renewBeforeDescription, MIN_RENEW_BEFORE, MAX_DURATION),
    privateKey: privateKeySchema,
    usages: {
      type: "array",
      description:
        `The key usages and extended key usages of each certificate, any of ${wordList(KEY_USAGES, "and")}. ` +
        `Default: ${DEFAULT_USAGES.join(" and ")}, so a pod can be both the server and the client of mTLS.`,
      minItems: 1,
      maxItems: KEY_USAGES.length,
      "x-kubernetes-list-type": "set",
      items: {
        type: "string",
        description: "One usage.",
        enum: [...KEY_USAGES],
      },
    },
    secretTemplate: secretTemplateSchema,
    delivery: {
      type: "string",
      description:
        `How each certificate reaches the pod: ${wordList(DELIVERIES, "or")}. Default ${DEFAULT_DELIVERY}. ` +
        "Secret: the operator generates the key and writes key and certificate into a Secret the " +
        "pod mounts (any Kubernetes version). PodCertificate: kubelet generates the key on the node " +
        "and asks meshid (signer meshid.dev/identity) for the certificate through a " +
        "PodCertificateRequest, so the key never leaves the node; needs Kubernetes 1.35 or later with " +
        "the PodCertificateRequest feature gate, a lifetime of at least 1h, and RSA keys of 3072 or " +
        "4096 bits.",
      enum: [...DELIVERIES],
    },
  },
  "x-kubernetes-validations": [
    {
      rule:
        "!has(self.delivery) || self.delivery != 'PodCertificate' || !has(self.privateKey) || " +
        "!has(self.privateKey.algorithm) || self.privateKey.algorithm != 'RSA' || " +
        "(has(self.privateKey.size) && self.privateKey.size in [3072, 4096])",
      message:
        "PodCertificate delivery needs RSA keys of 3072 or 4096 bits (kubelet makes no others)",
      fieldPath: ".privateKey.size",
    },
    {
      rule:
        "!has(self.delivery) || self.delivery != 'PodCertificate' || !has(self.duration) || " +
        `!${celIsDuration("self.duration")} || duration(self.duration) >= duration('1h')`,
      message: "must be at least 1h with PodCertificate delivery (the Kubernetes minimum)",
      fieldPath: ".duration",
    },
    {
      rule:
        `!has(self.renewBefore) || !${celIsDuration("self.renewBefore")} || ` +
        `duration(self.renewBefore) < (has(self.duration) && ${celIsDuration("self.duration")} ? duration(self.duration) : duration('${DEFAULT_DURATION}'))`,
      message: `must be less than duration (${DEFAULT_DURATION} when duration is not set)`,
      fieldPath: ".renewBefore",
    },
  ],
};
