/**
 * Bounds of the MeshIdentity spec, defined once for the schema (which enforces them at the API
 * server) and for the code that resolves and checks a spec.
 */

/** MIN_DURATION is the shortest certificate lifetime a spec may request. */
export const MIN_DURATION = "10m";

/** MAX_DURATION is the longest certificate lifetime a spec may request (90 days). */
export const MAX_DURATION = "2160h";

/**
 * MIN_RENEW_BEFORE is the shortest renewBefore a spec may set. It is below MIN_DURATION on
 * purpose: the default renewBefore of the shortest duration (10m / 3 = 3m20s) must itself be a
 * value a user may write down explicitly.
 */
export const MIN_RENEW_BEFORE = "1m";

/** MAX_DNS_NAMES is the most DNS name templates one MeshIdentity may list. */
export const MAX_DNS_NAMES = 100;

/** MAX_DNS_NAME_LENGTH is the longest DNS name (RFC 1035), also the longest template. */
export const MAX_DNS_NAME_LENGTH = 253;

/** MAX_DURATION_LENGTH bounds a duration string (enough for `99999h9999999m999999999s`). */
export const MAX_DURATION_LENGTH = 24;

/** MAX_MAP_ENTRIES bounds each map of label or annotation keys (selector matchLabels, secretTemplate). */
export const MAX_MAP_ENTRIES = 64;
