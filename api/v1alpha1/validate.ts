/**
 * Checks of a MeshIdentity that the schema cannot make, because they depend on the pod a name is
 * rendered for or on the operator's configuration. Pure functions; the operator turns a failed
 * check into `Ready=False` with the matching reason and issues no certificate.
 */
import { Reason } from "./conditions";
import { TemplateError } from "./errors";
import { MAX_DNS_NAME_LENGTH } from "./limits";
import { DNS_NAME_PATTERN } from "./patterns";

/** TEMPLATE_VARIABLES are the only variables a DNS name template may use, as `$(NAME)`. */
export const TEMPLATE_VARIABLES = ["POD_NAME", "POD_NAMESPACE", "SERVICE_ACCOUNT"] as const;

/** TemplateVariable is one supported template variable. */
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

/** TemplateValues gives the value of every template variable for one pod. */
export type TemplateValues = Record<TemplateVariable, string>;

const variableRe = /\$\(([^)]*)\)/g;
const dnsNameRe = new RegExp(DNS_NAME_PATTERN);

function isTemplateVariable(name: string): name is TemplateVariable {
  return (TEMPLATE_VARIABLES as readonly string[]).includes(name);
}

/**
 * renderDnsName substitutes `$(POD_NAME)`, `$(POD_NAMESPACE)` and `$(SERVICE_ACCOUNT)` in one pass
 * (a value is never expanded again). Throws TemplateError for any other `$(...)`. The result is
 * not checked: use isValidDnsName and dnsNameAllowed, or resolvePodDnsNames for both.
 */
export function renderDnsName(template: string, values: TemplateValues): string {
  return template.replace(variableRe, (_match, name: string) => {
    if (!isTemplateVariable(name)) throw new TemplateError(template, name);
    return values[name];
  });
}

/**
 * isValidDnsName says whether `name` is a lower-case DNS name of at most 253 characters whose
 * labels have 1-63 letters, digits and '-' (not first or last); a wildcard `*` may only be the
 * whole first label and must be followed by at least one label. A trailing dot is not accepted.
 */
export function isValidDnsName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_DNS_NAME_LENGTH) return false;
  const rest = name.startsWith("*.") ? name.slice(2) : name;
  return dnsNameRe.test(rest);
}

/**
 * dnsNameAllowed says whether a pod of `podNamespace` may carry `name` as a DNS SAN: only names
 * strictly inside its namespace's service domain, that is, ending with `.<ns>.svc` or
 * `.<ns>.svc.<clusterDomain>` with at least one label before (`payments.shop.svc`,
 * `x.payments.shop.svc.cluster.local`, `*.shop.svc`). The domain apex itself (`shop.svc`,
 * `shop.svc.cluster.local`) is refused: Kubernetes DNS serves no record there, so it names no
 * service and would only claim the whole namespace. The short form `<svc>.<ns>` is refused too: it
 * is only a search-path alias and would collide with public names (`.shop` is a real TLD).
 *
 * An `extraSuffixes` entry (operator configuration, e.g. `mesh.example.com`; a leading `*.` or `.`
 * is ignored) allows that name and every name below it, the way an X.509 DNS name constraint does.
 * Empty suffixes allow nothing. Comparison ignores case; an invalid DNS name is never allowed.
 */
export function dnsNameAllowed(
  name: string,
  podNamespace: string,
  clusterDomain: string,
  extraSuffixes: readonly string[] = [],
): boolean {
  const n = name.toLowerCase();
  if (!isValidDnsName(n)) return false;
  const ns = podNamespace.toLowerCase();
  const domain = normalizeSuffix(clusterDomain);
  if (
    ns !== "" &&
    (n.endsWith(`.${ns}.svc`) || (domain !== "" && n.endsWith(`.${ns}.svc.${domain}`)))
  ) {
    return true;
  }
  return extraSuffixes.some((raw) => {
    const suffix = normalizeSuffix(raw);
    return suffix !== "" && (n === suffix || n.endsWith(`.${suffix}`));
  });
}

function normalizeSuffix(suffix: string): string {
  return suffix
    .toLowerCase()
    .replace(/^\*?\./, "")
    .replace(/\.$/, "");
}

/** DnsNamePolicy is the operator configuration dnsNameAllowed needs. */
export interface DnsNamePolicy {
  /** clusterDomain is the cluster's DNS domain, e.g. `cluster.local`. */
  clusterDomain: string;
  /** extraSuffixes are further DNS suffixes the operator allows. */
  extraSuffixes: readonly string[];
}

/** DnsNamesResult is the outcome of resolvePodDnsNames. */
export type DnsNamesResult =
  | { ok: true; names: string[] }
  | {
      ok: false;
      reason: typeof Reason.DNSNameInvalid | typeof Reason.DNSNameNotAllowed;
      template: string;
      message: string;
    };

/**
 * resolvePodDnsNames renders every template for one pod and checks each result, returning the
 * names (duplicates removed, in order) or the first failure with the condition reason to report:
 * DNSNameInvalid for an unknown variable or a rendered name that is not a valid DNS name,
 * DNSNameNotAllowed for a valid name outside the pod's namespace service domain and the extra
 * suffixes.
 */
export function resolvePodDnsNames(
  templates: readonly string[],
  values: TemplateValues,
  policy: DnsNamePolicy,
): DnsNamesResult {
  const names: string[] = [];
  for (const template of templates) {
    let name: string;
    try {
      name = renderDnsName(template, values);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      return { ok: false, reason: Reason.DNSNameInvalid, template, message: err.message };
    }
    if (!isValidDnsName(name)) {
      return {
        ok: false,
        reason: Reason.DNSNameInvalid,
        template,
        message: `DNS name ${JSON.stringify(name)} rendered from ${JSON.stringify(template)} is not a valid DNS name`,
      };
    }
    if (!dnsNameAllowed(name, values.POD_NAMESPACE, policy.clusterDomain, policy.extraSuffixes)) {
      return {
        ok: false,
        reason: Reason.DNSNameNotAllowed,
        template,
        message:
          `DNS name ${JSON.stringify(name)} is outside namespace ${values.POD_NAMESPACE}'s service domain ` +
          `(*.${values.POD_NAMESPACE}.svc, *.${values.POD_NAMESPACE}.svc.${policy.clusterDomain}) and the allowed suffixes`,
      };
    }
    if (!names.includes(name)) names.push(name);
  }
  return { ok: true, names };
}
