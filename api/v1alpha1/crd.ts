/**
 * The CustomResourceDefinition of MeshIdentity, built from the names and the schema in this
 * package. hack/gen-manifests.ts writes it to manifests/crd; nothing else should.
 */
import { CONDITION_READY } from "./conditions";
import {
  CATEGORIES,
  CRD_NAME,
  GROUP,
  KIND,
  LIST_KIND,
  PLURAL,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
} from "./names";
import { meshIdentitySchema, type JSONSchemaProps } from "./schema";

/** PrinterColumn is one additionalPrinterColumns entry. */
export interface PrinterColumn {
  /** name is the column header. */
  name: string;
  /** type of the value; `date` prints the time elapsed since the value, like AGE. */
  type: "string" | "integer" | "date";
  /** jsonPath selects the value from the object. */
  jsonPath: string;
  /** description of the column. */
  description?: string;
  /** priority 0 is shown by default, higher only with `-o wide`. */
  priority?: number;
}

/** CustomResourceDefinition is the apiextensions.k8s.io/v1 object, as far as this API uses it. */
export interface CustomResourceDefinition {
  /** apiVersion of the CRD object. */
  apiVersion: "apiextensions.k8s.io/v1";
  /** kind of the CRD object. */
  kind: "CustomResourceDefinition";
  /** metadata: the CRD's name is `<plural>.<group>`. */
  metadata: { name: string; labels?: Record<string, string> };
  /** spec of the CRD. */
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: "Namespaced" | "Cluster";
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: JSONSchemaProps };
    }[];
  };
}

const readyPath = `.status.conditions[?(@.type=="${CONDITION_READY}")]`;

/** PRINTER_COLUMNS are the columns of `kubectl get meshidentities`, after NAME. */
export const PRINTER_COLUMNS: readonly PrinterColumn[] = [
  {
    name: "Ready",
    type: "string",
    jsonPath: `${readyPath}.status`,
    description: "Whether every selected pod holds a current certificate.",
  },
  {
    name: "Selected",
    type: "integer",
    jsonPath: ".status.selectedPods",
    description: "Pods the MeshIdentity selects.",
  },
  {
    name: "Issued",
    type: "integer",
    jsonPath: ".status.issuedPods",
    description: "Selected pods holding a current certificate.",
  },
  {
    // A string, not a date: a date column prints the time elapsed since the value, and kubectl
    // prints "<invalid>" for any time in the future, which a next renewal always is.
    name: "Next Renewal",
    type: "string",
    jsonPath: ".status.nextRenewalTime",
    description: "When the next certificate renewal is due (RFC 3339, UTC).",
  },
  {
    name: "Age",
    type: "date",
    jsonPath: ".metadata.creationTimestamp",
  },
  {
    name: "Reason",
    type: "string",
    jsonPath: `${readyPath}.reason`,
    description: "Why the MeshIdentity is or is not ready.",
    priority: 1,
  },
];

/** buildCustomResourceDefinition returns the MeshIdentity CRD: namespaced, with a status subresource. */
export function buildCustomResourceDefinition(): CustomResourceDefinition {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: CRD_NAME },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: LIST_KIND,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [...SHORT_NAMES],
        categories: [...CATEGORIES],
      },
      scope: "Namespaced",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: meshIdentitySchema },
        },
      ],
    },
  };
}
