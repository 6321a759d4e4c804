/**
 * Regular expressions shared by the schema (OpenAPI `pattern` and CEL `matches()`, both RE2) and
 * the TypeScript checks, so the API server and the operator agree on what a name is. They avoid
 * backslashes (`[.]` instead of `\.`) so they read the same in YAML, CEL strings and JavaScript.
 */

/** DNS_LABEL is one lower-case DNS label (RFC 1123), 1-63 characters. */
const DNS_LABEL = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?";

/** DNS_NAME_PATTERN matches a lower-case DNS name without wildcard; the 253-character limit is checked apart. */
export const DNS_NAME_PATTERN = `^${DNS_LABEL}([.]${DNS_LABEL})*$`;

/** DNS_SUBDOMAIN_PATTERN matches a DNS-1123 subdomain (e.g. a service account name) up to its length limit. */
export const DNS_SUBDOMAIN_PATTERN =
  "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/** LABEL_VALUE_PATTERN matches a label value: empty, or up to 63 alphanumerics, '-', '_', '.' starting and ending alphanumeric. */
export const LABEL_VALUE_PATTERN = "^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$";

/** QUALIFIED_NAME_PATTERN matches a label or annotation key: an optional DNS subdomain prefix and '/', then a name of up to 63 characters. */
export const QUALIFIED_NAME_PATTERN =
  "^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";

/** RESERVED_KEY_PATTERN matches keys under meshid.dev/ (or a subdomain of it), which the operator owns. */
export const RESERVED_KEY_PATTERN = "^([-a-z0-9.]*[.])?meshid[.]dev/";
