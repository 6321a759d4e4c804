/** Help texts of kubectl-meshid: one overview and one page per command. */
import type { Command } from "./args";

const global = `Global flags:
  -n, --namespace NS           namespace to look in (default: the kubeconfig context's)
      --kubeconfig PATH        kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
      --context NAME           kubeconfig context to use
      --operator-namespace NS  namespace of the meshid operator and its CA (default meshid-system)
      --ca-secret NAME         the signing CA's Secret (default meshid-ca)
      --root-ca-secret NAME    the bootstrap root's Secret (default meshid-root-ca)
  -h, --help                   show help`;

const pages: Record<Command | "overview", string> = {
  overview: `kubectl meshid: see and steer the identities meshid gives pods.

Usage: kubectl meshid COMMAND [ARGS] [flags]

Commands:
  status                   the CA, and each MeshIdentity's pods, certificates and mounts
  inventory                per pod: MeshIdentity, SPIFFE ID, serial, issuer, notAfter, renew-at, mounted
  inspect pod/NAME         a pod's certificate decoded, and its chain verified against the trust bundle
  renew mid/NAME|pod/NAME  ask the operator to re-issue now (annotation meshid.dev/renew-requested-at)

${global}

Run "kubectl meshid COMMAND --help" for a command's flags. Exit codes: 0 success, 1 failure
(API error, object not found, a chain that does not verify), 2 a bad command line.`,
  status: `kubectl meshid status: the CA and each MeshIdentity's counts.

Usage: kubectl meshid status [-n NS | -A] [-o wide|json|yaml]

Shows the signing CA (state, subject, expiry, fingerprint) and the root, then per MeshIdentity:
READY and REASON from its status, SELECTED and ISSUED pods, SECRETS issued, MOUNTED (pods that
mount theirs), EARLIEST EXPIRY among its certificates and NEXT RENEWAL.

Flags:
  -A, --all-namespaces         every namespace
  -o, --output wide|json|yaml  wide adds each condition's message

${global}`,
  inventory: `kubectl meshid inventory: one row per pod that meshid serves.

Usage: kubectl meshid inventory [-n NS | -A] [-l SELECTOR] [-o wide|json|yaml]

Columns: POD, MESHIDENTITY, SPIFFE ID, SERIAL, ISSUER (fingerprint prefix), NOT AFTER, RENEW AT,
MOUNTED. Serial, issuer and notAfter are read from the certificate itself, renew-at from the
Secret's annotation. A selected pod without a certificate yet shows <none>.

Flags:
  -A, --all-namespaces         every namespace
  -l, --selector SELECTOR      only pods matching this label selector (e.g. app=payments)
  -o, --output wide|json|yaml  wide adds the Secret, DNS names and whether the Secret is bound to
                               this pod's UID

${global}`,
  inspect: `kubectl meshid inspect: a pod's certificate, decoded and verified.

Usage: kubectl meshid inspect pod/NAME [-n NS] [-o json|yaml]

Decodes the leaf of the pod's Secret (SPIFFE ID, DNS and IP SANs, serial, validity, key, usages),
checks that tls.key matches it, and verifies its chain against the namespace's trust bundle
(ConfigMap meshid-ca-bundle; the Secret's ca.crt when there is none): signatures, CA flags,
pathLenConstraint and validity now. Exits 1 when the chain does not verify.

Flags:
  -o, --output json|yaml       machine-readable output

${global}`,
  renew: `kubectl meshid renew: ask the operator to re-issue certificates now.

Usage: kubectl meshid renew mid/NAME|pod/NAME ... [-n NS]

Writes the annotation meshid.dev/renew-requested-at=<now, RFC 3339 UTC> on each object. The
operator re-issues the pod's certificate (for a MeshIdentity: every pod it serves, paced) once,
with a new serial and, unless rotationPolicy is Never, a new key.

${global}`,
};

/** helpText is the help page of a command, or the overview. */
export function helpText(command?: Command): string {
  return `${pages[command ?? "overview"]}\n`;
}
