/**
 * The four commands: each gathers what it needs through the Cluster port, builds its result with
 * the pure modules beside this one, and writes it in the chosen format. They return the exit code.
 */
import { annotations } from "../policy/naming";
import { parseTarget, type Invocation } from "./args";
import { bundleSource, inspectPodSecret, renderInspection } from "./inspect";
import { buildInventory, inventoryColumns, podSecret, secretText } from "./inventory";
import { CliError, type Cluster, type Scope } from "./kube";
import { renderData, renderTable } from "./output";
import { caColumns, caState, identityColumns, identityStatuses } from "./status";

/** Io is where a command writes, and its clock. */
export interface Io {
  out: (text: string) => void;
  now: () => Date;
}

/** CommandContext is what every command runs with. */
export interface CommandContext {
  inv: Invocation;
  cluster: Cluster;
  /** namespace is -n, else the kubeconfig context's namespace. */
  namespace: string;
  io: Io;
}

function scopeOf({ inv, namespace }: CommandContext): Scope {
  return inv.allNamespaces ? {} : { namespace };
}

/** runStatus prints the CA and each MeshIdentity's counts. */
export async function runStatus(ctx: CommandContext): Promise<number> {
  const { inv, cluster, io } = ctx;
  const scope = scopeOf(ctx);
  const [ca, root, identities, secrets, pods] = await Promise.all([
    cluster.caSecret(inv.operatorNamespace, inv.caSecret),
    cluster.caSecret(inv.operatorNamespace, inv.rootCaSecret),
    cluster.identities(scope),
    cluster.managedSecrets(scope),
    cluster.pods(scope),
  ]);
  const now = io.now();
  const cas = [
    { role: "signing", ...caState(`${inv.operatorNamespace}/${inv.caSecret}`, ca, now) },
    { role: "root", ...caState(`${inv.operatorNamespace}/${inv.rootCaSecret}`, root, now) },
  ];
  const mounted = new Set(
    pods.flatMap((p) =>
      (p.spec?.volumes ?? []).flatMap((v) =>
        v.secret?.secretName ? [`${p.metadata?.namespace}/${v.secret.secretName}`] : [],
      ),
    ),
  );
  const rows = identityStatuses(identities, secrets, mounted);
  if (inv.output === "json" || inv.output === "yaml") {
    io.out(renderData({ ca: cas, meshIdentities: rows }, inv.output));
    return 0;
  }
  const wide = inv.output === "wide";
  io.out(renderTable(cas, caColumns, wide));
  io.out("\n");
  if (rows.length === 0)
    io.out(
      `No MeshIdentity ${inv.allNamespaces ? "in any namespace" : `in namespace ${ctx.namespace}`}.\n`,
    );
  else io.out(renderTable(rows, identityColumns(inv.allNamespaces), wide));
  return 0;
}

/** runInventory prints one row per pod meshid serves. */
export async function runInventory(ctx: CommandContext): Promise<number> {
  const { inv, cluster, io } = ctx;
  const scope = scopeOf(ctx);
  const [pods, secrets, identities, requests] = await Promise.all([
    cluster.pods(scope, inv.selector),
    cluster.managedSecrets(scope),
    cluster.identities(scope),
    cluster.podCertificateRequests(scope),
  ]);
  const entries = buildInventory(pods, secrets, identities, requests);
  if (inv.output === "json" || inv.output === "yaml")
    io.out(renderData({ items: entries }, inv.output));
  else if (entries.length === 0)
    io.out(
      `No pod with a meshid identity ${inv.allNamespaces ? "in any namespace" : `in namespace ${ctx.namespace}`}.\n`,
    );
  else io.out(renderTable(entries, inventoryColumns(inv.allNamespaces), inv.output === "wide"));
  return 0;
}

/** runInspect prints one pod's certificate and whether its chain verifies; 1 when it does not. */
export async function runInspect(ctx: CommandContext): Promise<number> {
  const { inv, cluster, io, namespace } = ctx;
  const { name } = parseTarget(inv.args[0] ?? "", ["pod"]);
  const pod = await cluster.pod(namespace, name);
  if (!pod) throw new CliError(`pod ${namespace}/${name} not found`);
  const owned = (await cluster.managedSecrets({ namespace })).filter((s) =>
    s.metadata?.ownerReferences?.some((o) => o.kind === "Pod" && o.uid === pod.metadata?.uid),
  );
  const secret = podSecret(pod, owned);
  if (!secret)
    throw new CliError(
      `pod ${namespace}/${name} holds no meshid certificate: no MeshIdentity selects it, or it is not issued yet (kubectl meshid inventory -n ${namespace})`,
    );
  const [bundle, ca] = await Promise.all([
    cluster.trustBundle(namespace),
    cluster.caSecret(inv.operatorNamespace, inv.caSecret),
  ]);
  // Unknown (undefined) when the CA Secret is missing, unreadable or corrupt: status says which.
  const current = caState(inv.caSecret, ca, io.now()).fingerprint;
  const from = bundleSource(namespace, bundle !== undefined, secret.metadata?.name ?? "");
  const result = inspectPodSecret(
    pod,
    secret,
    { pem: bundle ?? secretText(secret, "ca.crt"), from },
    current,
    io.now(),
  );
  io.out(
    inv.output === "json" || inv.output === "yaml"
      ? renderData(result, inv.output)
      : renderInspection(result),
  );
  return result.chain.verified && result.certificate.keyMatches ? 0 : 1;
}

/** runRenew annotates each pod or MeshIdentity so the operator re-issues its certificates. */
export async function runRenew(ctx: CommandContext): Promise<number> {
  const { inv, cluster, io, namespace } = ctx;
  const targets = inv.args.map((a) => parseTarget(a, ["meshidentity", "pod"]));
  // Milliseconds: two requests within one second must still be told apart.
  const at = io.now().toISOString();
  for (const t of targets) {
    await cluster.annotate(t.kind, namespace, t.name, { [annotations.renewRequestedAt]: at });
    const kind = t.kind === "pod" ? "pod" : "meshidentity.meshid.dev";
    io.out(`${kind}/${t.name} renewal requested (${annotations.renewRequestedAt}=${at})\n`);
  }
  return 0;
}
