/**
 * spec.dnsNames: DNS name templates. The CEL rules replace each supported variable by a letter and
 * then check what remains, so the API server and renderDnsName agree on what a template is.
 */
import { wordList, type JSONSchemaProps } from "./json-schema";
import { MAX_DNS_NAME_LENGTH, MAX_DNS_NAMES } from "./limits";
import { DNS_NAME_PATTERN } from "./patterns";
import { TEMPLATE_VARIABLES } from "./validate";

const variableList = (conjunction: "and" | "or"): string =>
  wordList(
    TEMPLATE_VARIABLES.map((v) => `$(${v})`),
    conjunction,
  );

/** celStripVariables is a CEL expression: `expr` with every supported template variable replaced by a letter. */
function celStripVariables(expr: string): string {
  return TEMPLATE_VARIABLES.reduce((e, v) => `${e}.replace('$(${v})', 'x')`, expr);
}

const stripped = celStripVariables("self");

/** dnsNamesSchema is spec.dnsNames: templates checked one rule per kind of mistake, so each error says exactly what is wrong. */
export const dnsNamesSchema: JSONSchemaProps = {
  type: "array",
  description:
    "DNS names (subject alternative names) of each pod's certificate. Each is a template: " +
    `${variableList("and")} are replaced by the pod's name, ` +
    "namespace and service account. Names are lower case; a wildcard may only be the whole first " +
    "label (*.payments.shop.svc). The operator issues names only inside the pod's namespace " +
    "service domain (<name>.<namespace>.svc and <name>.<namespace>.svc.<cluster domain>, at least one " +
    "label below the namespace) or under suffixes its configuration allows; otherwise the " +
    "MeshIdentity reports the reason DNSNameNotAllowed and no certificate is issued. Default: none " +
    "(the certificate carries only the SPIFFE ID, and the pod IP if includePodIP is set).",
  maxItems: MAX_DNS_NAMES,
  "x-kubernetes-list-type": "set",
  items: {
    type: "string",
    description: "One DNS name template.",
    maxLength: MAX_DNS_NAME_LENGTH,
    "x-kubernetes-validations": [
      {
        rule: `!${stripped}.contains('$')`,
        message: `may use only the template variables ${variableList("and")}`,
      },
      {
        // An unknown variable is upper case too; the rule above already reports it.
        rule: `${stripped}.contains('$') || ${stripped} == ${stripped}.lowerAscii()`,
        message: "must be lower case",
      },
      {
        rule: "!self.contains('*') || (self.startsWith('*.') && self.lastIndexOf('*') == 0)",
        message: "may contain a wildcard only as the whole first label, as in *.payments.shop.svc",
      },
      {
        rule: `${stripped}.contains('$') || ${stripped}.lowerAscii().replace('*', 'x').matches('${DNS_NAME_PATTERN}')`,
        message:
          "must be a DNS name: labels of letters, digits and '-' separated by dots, each starting and ending with a letter or digit and at most 63 characters long",
      },
    ],
  },
};
