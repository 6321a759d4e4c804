/**
 * MeshCA: the cluster's certificate authority as a read-only resource. The operator creates one
 * object, named `meshid`, and keeps its status: the signing intermediate and the ones it replaced,
 * the roots of the trust bundle, and how many live leaves each issuer signed, so `kubectl get
 * meshca` shows at a glance whether a renewal has finished moving every leaf.
 */
import type { CustomResourceDefinition, PrinterColumn } from "./crd";
import type { JSONSchemaProps } from "./json-schema";
import { CATEGORIES, GROUP, VERSION } from "./names";

/** MESHCA_KIND is the `kind` of the MeshCA object. */
export const MESHCA_KIND = "MeshCA";

/** MESHCA_PLURAL is the resource name in API paths (`/apis/meshid.dev/v1alpha1/meshcas`). */
export const MESHCA_PLURAL = "meshcas";

/** MESHCA_NAME is the name of the one MeshCA object the operator keeps. */
export const MESHCA_NAME = "meshid";

/** MESHCA_PHASES: Active (every live leaf is signed by the current intermediate) or Draining. */
const MESHCA_PHASES = ["Active", "Draining", "NotReady"] as const;

/** MeshCAPhase is where the CA stands. */
export type MeshCAPhase = (typeof MESHCA_PHASES)[number];

/**
 * ROOT_ROTATION_PHASES: a root rotation goes Prepared → Propagating → Active → Draining → Retired,
 * or RolledBack from Prepared or Propagating; Pending when it could not be prepared (see message).
 */
const ROOT_ROTATION_PHASES = [
  "Pending",
  "Prepared",
  "Propagating",
  "Active",
  "Draining",
  "Retired",
  "RolledBack",
] as const;

/** RootRotationPhase is where a root rotation stands. */
export type RootRotationPhase = (typeof ROOT_ROTATION_PHASES)[number];

/** ROOT_ROTATION_PATTERN is what `spec.rootRotation` may hold: a short label-like token. */
const ROOT_ROTATION_PATTERN = "^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$";

/** MeshCASpec is what a user asks of the CA. */
export interface MeshCASpec {
  /**
   * rootRotation requests a root rotation: setting it to a new token starts one; changing it
   * back (or to anything else) before the rotation is Active rolls it back.
   */
  rootRotation?: string;
}

/** CertificateRef names one CA certificate by its SHA-256 fingerprint. */
export interface CertificateRef {
  /** fingerprint is the lower-case hex SHA-256 of the certificate's DER. */
  fingerprint: string;
  subject: string;
  /** notAfter in RFC 3339. */
  notAfter: string;
}

/** IssuerCount is the number of live leaves one issuer signed. */
export interface IssuerCount {
  fingerprint: string;
  leaves: number;
}

/** RootRotation is the state of the latest root rotation, kept in status so a restart resumes it. */
export interface RootRotation {
  /** id is the spec.rootRotation token this rotation answers. */
  id: string;
  phase: RootRotationPhase;
  /** since is when the rotation entered its phase (RFC 3339). */
  since: string;
  /** completed is the id of the last rotation that reached Retired. */
  completed?: string;
  /** oldRoots are the roots being replaced (the bundle when the rotation started). */
  oldRoots?: CertificateRef[];
  /** nextRoots are the roots of the next intermediate. */
  nextRoots?: CertificateRef[];
  /** nextIntermediate is the intermediate that signs from Active on. */
  nextIntermediate?: CertificateRef;
  /** carriersUpdatedAt is when every carrier of the trust bundle was first seen holding both roots. */
  carriersUpdatedAt?: string;
  /** leavesMovedAt is when no live leaf was first seen on a previous intermediate (Draining). */
  leavesMovedAt?: string;
  /** carriers counts the trust bundle's carriers and those still to update. */
  carriers?: { total: number; pending: number };
  /** refused is a spec.rootRotation token refused while this rotation was past Prepared. */
  refused?: string;
  /** message says what the rotation waits for, or why it cannot go on. */
  message?: string;
}

/** MeshCAStatus is what the operator reports about its CA. */
export interface MeshCAStatus {
  phase?: MeshCAPhase;
  mode?: "bootstrap" | "external";
  /** message says why the CA is not ready, or what it is waiting for. */
  message?: string;
  /** intermediate is the CA that signs new leaves. */
  intermediate?: CertificateRef & { renewAt?: string };
  /** previousIntermediates are replaced intermediates that live leaves may still chain to. */
  previousIntermediates?: CertificateRef[];
  /** roots are the trust bundle every pod and bundle ConfigMap holds. */
  roots?: CertificateRef[];
  /** leaves counts the live leaves by where their chain leads. */
  leaves?: { total: number; current: number; previous: number; untrusted: number };
  /** issuers is the inventory of live leaves per issuing intermediate. */
  issuers?: IssuerCount[];
  /** observedTime is when this status was computed. */
  observedTime?: string;
  /** rotation is the latest root rotation, written by the rotation controller alone. */
  rotation?: RootRotation;
}

/** MeshCA is the cluster-scoped CA resource. */
export interface MeshCA {
  apiVersion: `${typeof GROUP}/${typeof VERSION}`;
  kind: typeof MESHCA_KIND;
  metadata: { name?: string; resourceVersion?: string; uid?: string; generation?: number };
  spec?: MeshCASpec;
  status?: MeshCAStatus;
}

const certificateRef: JSONSchemaProps = {
  type: "object",
  description: "A CA certificate, by the SHA-256 of its DER.",
  required: ["fingerprint", "subject", "notAfter"],
  properties: {
    fingerprint: { type: "string", description: "Lower-case hex SHA-256 of the DER." },
    subject: { type: "string", description: "The certificate's subject." },
    notAfter: { type: "string", format: "date-time", description: "When it expires." },
  },
};

const count = (description: string): JSONSchemaProps => ({
  type: "integer",
  minimum: 0,
  description,
});

const meshCaSchema: JSONSchemaProps = {
  type: "object",
  description:
    "The cluster's certificate authority as meshid sees it. The operator creates the one object, named meshid, and writes its status; spec.rootRotation requests a root rotation.",
  properties: {
    apiVersion: { type: "string", description: "APIVersion of the object." },
    kind: { type: "string", description: "Kind of the object." },
    metadata: { type: "object" },
    spec: {
      type: "object",
      description: "What the CA is asked to do.",
      properties: {
        rootRotation: {
          type: "string",
          maxLength: 63,
          pattern: ROOT_ROTATION_PATTERN,
          description:
            "Setting a new token starts a root rotation (Prepared, Propagating, Active, Draining, Retired). Changing it back before Active rolls the rotation back; after Active it is refused. See docs/ca-rotation.md.",
        },
      },
    },
    status: {
      type: "object",
      description: "The CA as last observed by the operator.",
      properties: {
        phase: {
          type: "string",
          enum: [...MESHCA_PHASES],
          description:
            "Active: every live leaf is signed by the current intermediate. Draining: some still chain to a previous one (they move paced, or at their renewal). NotReady: nothing is signed; see message.",
        },
        mode: { type: "string", enum: ["bootstrap", "external"], description: "The CA mode." },
        message: { type: "string", description: "Why the CA is not ready." },
        intermediate: {
          ...certificateRef,
          description: "The intermediate that signs new leaves.",
          properties: {
            ...certificateRef.properties,
            renewAt: {
              type: "string",
              format: "date-time",
              description: "When a successor is signed (bootstrap) or warned about (external).",
            },
          },
        },
        previousIntermediates: {
          type: "array",
          description: "Replaced intermediates that live leaves may still chain to.",
          items: certificateRef,
        },
        roots: {
          type: "array",
          description: "The trust bundle: the roots every pod Secret and bundle ConfigMap holds.",
          items: certificateRef,
        },
        leaves: {
          type: "object",
          description: "Live leaves (pod certificate Secrets) by where their chain leads.",
          required: ["total", "current", "previous", "untrusted"],
          properties: {
            total: count("Every managed certificate Secret."),
            current: count("Signed by the current intermediate."),
            previous: count("Signed by another CA under a trusted root (a previous intermediate)."),
            untrusted: count("Unreadable, or chaining to nothing meshid trusts."),
          },
        },
        issuers: {
          type: "array",
          description: "The inventory of live leaves per issuing intermediate.",
          items: {
            type: "object",
            required: ["fingerprint", "leaves"],
            properties: {
              fingerprint: { type: "string", description: "The issuer's SHA-256." },
              leaves: count("Live leaves it signed."),
            },
          },
        },
        observedTime: {
          type: "string",
          format: "date-time",
          description: "When this status was computed.",
        },
        rotation: {
          type: "object",
          description: "The latest root rotation.",
          required: ["id", "phase", "since"],
          properties: {
            id: { type: "string", description: "The spec.rootRotation token it answers." },
            phase: {
              type: "string",
              enum: [...ROOT_ROTATION_PHASES],
              description:
                "Pending: requested, but the next intermediate could not be prepared (see message). Prepared: the next root and intermediate exist. Propagating: every bundle holds old and new roots; waiting for every carrier and the soak. Active: the new intermediate signs. Draining: old-root leaves are re-issued paced. Retired: the old root left every bundle. RolledBack: undone before Active.",
            },
            since: { type: "string", format: "date-time", description: "When the phase began." },
            completed: { type: "string", description: "The last rotation that reached Retired." },
            oldRoots: {
              type: "array",
              description: "The roots being replaced.",
              items: certificateRef,
            },
            nextRoots: {
              type: "array",
              description: "The roots of the next intermediate.",
              items: certificateRef,
            },
            nextIntermediate: {
              ...certificateRef,
              description: "The intermediate that signs from Active on.",
            },
            carriersUpdatedAt: {
              type: "string",
              format: "date-time",
              description:
                "When every carrier of the bundle was first seen holding both roots (the soak starts then).",
            },
            leavesMovedAt: {
              type: "string",
              format: "date-time",
              description:
                "When every live leaf was first seen on the current intermediate (Draining); the old root is retired a soak later.",
            },
            carriers: {
              type: "object",
              description:
                "Carriers of the trust bundle (pod Secrets, bundle ConfigMaps, the webhook's caBundle, the ClusterTrustBundle).",
              required: ["total", "pending"],
              properties: {
                total: count("Every carrier."),
                pending: count("Carriers that do not hold the current bundle yet."),
              },
            },
            refused: {
              type: "string",
              description:
                "A spec.rootRotation token refused while this rotation was Active or Draining; it does not start a rotation afterwards.",
            },
            message: {
              type: "string",
              description: "What the rotation waits for, or why it cannot go on.",
            },
          },
        },
      },
    },
  },
};

const MESHCA_COLUMNS: PrinterColumn[] = [
  { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Where the CA stands." },
  {
    name: "Expires",
    type: "string",
    jsonPath: ".status.intermediate.notAfter",
    description: "When the current intermediate expires (RFC 3339).",
  },
  {
    name: "Renews",
    type: "string",
    jsonPath: ".status.intermediate.renewAt",
    description: "When the current intermediate is renewed (RFC 3339).",
  },
  {
    name: "Leaves",
    type: "integer",
    jsonPath: ".status.leaves.total",
    description: "Live leaves.",
  },
  {
    name: "Current",
    type: "integer",
    jsonPath: ".status.leaves.current",
    description: "Live leaves signed by the current intermediate.",
  },
  {
    name: "Previous",
    type: "integer",
    jsonPath: ".status.leaves.previous",
    description: "Live leaves signed by a previous intermediate.",
  },
  {
    name: "Rotation",
    type: "string",
    jsonPath: ".status.rotation.phase",
    description: "Where the latest root rotation stands.",
  },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

/** buildMeshCaCrd returns the MeshCA CRD: cluster-scoped, with a status subresource. */
export function buildMeshCaCrd(): CustomResourceDefinition {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${MESHCA_PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: MESHCA_KIND,
        listKind: `${MESHCA_KIND}List`,
        plural: MESHCA_PLURAL,
        singular: "meshca",
        shortNames: ["mca"],
        categories: [...CATEGORIES],
      },
      scope: "Cluster",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: MESHCA_COLUMNS.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: meshCaSchema },
        },
      ],
    },
  };
}
