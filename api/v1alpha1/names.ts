/**
 * Names of the MeshIdentity API, defined once: the operator, the generator and the tests use
 * these constants instead of repeating the strings.
 */

/** GROUP is the API group of every meshid custom resource. */
export const GROUP = "meshid.dev";

/** VERSION is the API version these types and this schema describe. */
export const VERSION = "v1alpha1";

/** API_VERSION is the `apiVersion` of a MeshIdentity object. */
export const API_VERSION = `${GROUP}/${VERSION}` as const;

/** KIND is the `kind` of a MeshIdentity object. */
export const KIND = "MeshIdentity";

/** LIST_KIND is the `kind` of a list of MeshIdentities. */
export const LIST_KIND = "MeshIdentityList";

/** PLURAL is the resource name in API paths (`/apis/meshid.dev/v1alpha1/.../meshidentities`). */
export const PLURAL = "meshidentities";

/** SINGULAR is the singular resource name (`kubectl get meshidentity`). */
export const SINGULAR = "meshidentity";

/** SHORT_NAMES are the abbreviations kubectl accepts (`kubectl get mid`). */
export const SHORT_NAMES: readonly string[] = ["mid"];

/** CATEGORIES group the resource for `kubectl get meshid`. */
export const CATEGORIES: readonly string[] = ["meshid"];

/** CRD_NAME is the name of the CustomResourceDefinition, `<plural>.<group>`. */
export const CRD_NAME = `${PLURAL}.${GROUP}` as const;
