/**
 * Operator configuration from flags and environment variables (a flag wins over its variable).
 * This is the only module that reads process.env. Every option is declared once in `options`,
 * which also produces `--help` and docs/configuration.md's table.
 */
import { isIP } from "node:net";
import { hostname } from "node:os";
import { parseDuration } from "../api/v1alpha1/duration";
import { parseLogLevel, logLevels, type LogLevel } from "./logger";

/** CaMode says where the signing CA comes from. */
export type CaMode = "bootstrap" | "external";

/** Config is the operator's resolved configuration. */
export interface Config {
  kubeconfig?: string;
  trustDomain: string;
  clusterDomain: string;
  namespace: string;
  caMode: CaMode;
  caSecret: string;
  rootCaSecret: string;
  allowedDnsSuffixes: string[];
  defaultDurationMs: number;
  logLevel: LogLevel;
  bindAddress: string;
  healthPort: number;
  metricsPort: number;
  leaderElect: boolean;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  identity: string;
  concurrency: number;
  resyncPeriodMs: number;
  caRecheckPeriodMs: number;
  caRotationSoakMs: number;
  caIntermediateValidityMs: number;
  caRootValidityMs: number;
  caRenewFraction: number;
  reissueRate: number;
  webhookPort: number;
  webhookConfigName: string;
  webhookService: string;
  webhookCertIps: string[];
}

/** ConfigError is a bad flag or variable; its message says which and what is accepted. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

interface Option {
  key: keyof Config;
  flag: string;
  env: string;
  help: string;
  default?: string;
  parse: (raw: string, name: string) => unknown;
}

const text = (raw: string) => raw;
const dnsName = (raw: string, name: string) => {
  const v = raw.trim().toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(v)) {
    throw new ConfigError(
      `${name}: "${raw}" is not a DNS name (lower-case labels separated by dots)`,
    );
  }
  return v;
};
const port = (raw: string, name: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new ConfigError(`${name}: "${raw}" is not a port (0-65535; 0 disables)`);
  return n;
};
const positiveInt = (raw: string, name: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`${name}: "${raw}" is not a positive integer`);
  return n;
};
const duration = (raw: string, name: string) => {
  try {
    return parseDuration(raw);
  } catch {
    throw new ConfigError(`${name}: "${raw}" is not a duration (e.g. 15s, 10m, 24h, 1h30m)`);
  }
};
const fraction = (raw: string, name: string) => {
  const n = Number(raw);
  if (!(n > 0 && n < 1))
    throw new ConfigError(`${name}: "${raw}" is not a fraction between 0 and 1`);
  return n;
};
const bool = (raw: string, name: string) => {
  const v = raw.trim().toLowerCase();
  if (["true", "1", "yes"].includes(v)) return true;
  if (["false", "0", "no"].includes(v)) return false;
  throw new ConfigError(`${name}: "${raw}" is not a boolean (true or false)`);
};
const suffixes = (raw: string, name: string) =>
  raw
    .split(",")
    .map((s) => s.trim().replace(/^\./, ""))
    .filter((s) => s !== "")
    .map((s) => dnsName(s, name));
const ips = (raw: string, name: string) =>
  raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => {
      if (!isIP(s)) throw new ConfigError(`${name}: "${s}" is not an IP address`);
      return s;
    });
const level = (raw: string, name: string) => {
  const l = parseLogLevel(raw);
  if (!l)
    throw new ConfigError(
      `${name}: "${raw}" is not a log level (one of ${logLevels.join(", ")}, any case)`,
    );
  return l;
};
const caMode = (raw: string, name: string) => {
  const v = raw.trim().toLowerCase();
  if (v !== "bootstrap" && v !== "external")
    throw new ConfigError(`${name}: "${raw}" is not a CA mode (bootstrap or external)`);
  return v;
};

/** options declares every setting: flag, environment variable, default and help. */
export const options: readonly Option[] = [
  {
    key: "kubeconfig",
    flag: "--kubeconfig",
    env: "KUBECONFIG",
    help: "kubeconfig file; in-cluster credentials when unset",
    parse: text,
  },
  {
    key: "trustDomain",
    flag: "--trust-domain",
    env: "MESHID_TRUST_DOMAIN",
    default: "cluster.local",
    help: "SPIFFE trust domain of issued identities",
    parse: dnsName,
  },
  {
    key: "clusterDomain",
    flag: "--cluster-domain",
    env: "MESHID_CLUSTER_DOMAIN",
    default: "cluster.local",
    help: "cluster DNS domain (allowed DNS names: *.<ns>.svc and *.<ns>.svc.<domain>)",
    parse: dnsName,
  },
  {
    key: "namespace",
    flag: "--namespace",
    env: "MESHID_NAMESPACE",
    default: "meshid-system",
    help: "namespace of the operator: CA Secrets and the leader Lease",
    parse: dnsName,
  },
  {
    key: "caMode",
    flag: "--ca-mode",
    env: "MESHID_CA_MODE",
    default: "bootstrap",
    help: "bootstrap (create a root and intermediate at first start) or external (use --ca-secret as given)",
    parse: caMode,
  },
  {
    key: "caSecret",
    flag: "--ca-secret",
    env: "MESHID_CA_SECRET",
    default: "meshid-ca",
    help: "Secret with the signing intermediate (tls.crt, tls.key, ca.crt)",
    parse: dnsName,
  },
  {
    key: "rootCaSecret",
    flag: "--root-ca-secret",
    env: "MESHID_ROOT_CA_SECRET",
    default: "meshid-root-ca",
    help: "Secret with the bootstrap root CA (bootstrap mode only)",
    parse: dnsName,
  },
  {
    key: "allowedDnsSuffixes",
    flag: "--allowed-dns-suffixes",
    env: "MESHID_ALLOWED_DNS_SUFFIXES",
    default: "",
    help: "comma-separated DNS suffixes allowed in addition to the namespace's service domain",
    parse: suffixes,
  },
  {
    key: "defaultDurationMs",
    flag: "--default-duration",
    env: "MESHID_DEFAULT_DURATION",
    default: "24h",
    help: "certificate lifetime when a MeshIdentity sets none",
    parse: duration,
  },
  {
    key: "logLevel",
    flag: "--log-level",
    env: "LOG_LEVEL",
    default: "info",
    help: `log level: ${logLevels.join(", ")} (any case)`,
    parse: level,
  },
  {
    key: "bindAddress",
    flag: "--bind-address",
    env: "MESHID_BIND_ADDRESS",
    default: "0.0.0.0",
    help: "address the health and metrics servers listen on",
    parse: text,
  },
  {
    key: "healthPort",
    flag: "--health-port",
    env: "MESHID_HEALTH_PORT",
    default: "8081",
    help: "port of /healthz and /readyz (0 disables)",
    parse: port,
  },
  {
    key: "metricsPort",
    flag: "--metrics-port",
    env: "MESHID_METRICS_PORT",
    default: "8080",
    help: "port of /metrics (0 disables)",
    parse: port,
  },
  {
    key: "leaderElect",
    flag: "--leader-elect",
    env: "MESHID_LEADER_ELECT",
    default: "true",
    help: "elect a leader through a Lease; only the leader reconciles",
    parse: bool,
  },
  {
    key: "leaseName",
    flag: "--lease-name",
    env: "MESHID_LEASE_NAME",
    default: "meshid-operator",
    help: "name of the leader-election Lease",
    parse: dnsName,
  },
  {
    key: "leaseDurationMs",
    flag: "--lease-duration",
    env: "MESHID_LEASE_DURATION",
    default: "15s",
    help: "how long a non-renewed Lease blocks other replicas",
    parse: duration,
  },
  {
    key: "renewDeadlineMs",
    flag: "--renew-deadline",
    env: "MESHID_RENEW_DEADLINE",
    default: "10s",
    help: "how long the leader keeps leading while renewals fail",
    parse: duration,
  },
  {
    key: "retryPeriodMs",
    flag: "--retry-period",
    env: "MESHID_RETRY_PERIOD",
    default: "2s",
    help: "interval between Lease acquire or renew attempts",
    parse: duration,
  },
  {
    key: "identity",
    flag: "--identity",
    env: "POD_NAME",
    help: "this replica's name in the Lease (default: hostname-pid)",
    parse: text,
  },
  {
    key: "resyncPeriodMs",
    flag: "--resync-period",
    env: "MESHID_RESYNC_PERIOD",
    default: "10m",
    help: "how often every pod and MeshIdentity is checked again from the caches (with up to 10% jitter), so no drift outlives it",
    parse: duration,
  },
  {
    key: "caRecheckPeriodMs",
    flag: "--ca-recheck-period",
    env: "MESHID_CA_RECHECK_PERIOD",
    default: "30s",
    help: "how often the CA Secrets are read again, so a replaced, deleted or repaired CA is noticed",
    parse: duration,
  },
  {
    key: "caRotationSoakMs",
    flag: "--ca-rotation-soak",
    env: "MESHID_CA_ROTATION_SOAK",
    default: "2m",
    help: "how long a root rotation waits, once every carrier of the trust bundle holds the new root, before the new intermediate signs (kubelet refreshes mounted Secrets within about a minute)",
    parse: duration,
  },
  {
    key: "caIntermediateValidityMs",
    flag: "--ca-intermediate-validity",
    env: "MESHID_CA_INTERMEDIATE_VALIDITY",
    default: "8760h",
    help: "lifetime of each intermediate CA meshid signs (bootstrap mode), capped at its root's notAfter",
    parse: duration,
  },
  {
    key: "caRootValidityMs",
    flag: "--ca-root-validity",
    env: "MESHID_CA_ROOT_VALIDITY",
    default: "87600h",
    help: "lifetime of a root CA meshid generates (bootstrap mode)",
    parse: duration,
  },
  {
    key: "caRenewFraction",
    flag: "--ca-renew-fraction",
    env: "MESHID_CA_RENEW_FRACTION",
    default: "0.667",
    help: "share of the intermediate's life after which meshid signs its successor (bootstrap mode)",
    parse: fraction,
  },
  {
    key: "reissueRate",
    flag: "--reissue-rate",
    env: "MESHID_REISSUE_RATE",
    default: "20",
    help: "certificates a second that a mass re-issue (a CA change, a MeshIdentity spec change or renewal request) may re-issue, on average",
    parse: positiveInt,
  },
  {
    key: "webhookPort",
    flag: "--webhook-port",
    env: "MESHID_WEBHOOK_PORT",
    default: "9443",
    help: "HTTPS port of the admission webhook (0 disables)",
    parse: port,
  },
  {
    key: "webhookConfigName",
    flag: "--webhook-config-name",
    env: "MESHID_WEBHOOK_CONFIG_NAME",
    default: "meshid",
    help: "MutatingWebhookConfiguration whose caBundle the operator keeps current",
    parse: dnsName,
  },
  {
    key: "webhookService",
    flag: "--webhook-service",
    env: "MESHID_WEBHOOK_SERVICE",
    default: "meshid-webhook",
    help: "Service in front of the webhook; its DNS names go into the serving certificate",
    parse: dnsName,
  },
  {
    key: "webhookCertIps",
    flag: "--webhook-cert-ips",
    env: "MESHID_WEBHOOK_CERT_IPS",
    default: "",
    help: "comma-separated IP SANs for the webhook certificate (e.g. 127.0.0.1 for a url clientConfig)",
    parse: ips,
  },
  {
    key: "concurrency",
    flag: "--concurrency",
    env: "MESHID_CONCURRENCY",
    default: "4",
    help: "pods reconciled at the same time",
    parse: positiveInt,
  },
];

/** helpText is the text of --help. */
export function helpText(): string {
  const lines = [
    "meshid-operator: issues and rotates per-pod X.509 (SPIFFE) identities for MeshIdentity resources.",
    "",
    "Usage: meshid-operator [flags]",
    "",
    "Every flag can also be set by its environment variable; a flag wins.",
    "",
  ];
  for (const o of options) {
    const def = o.default !== undefined && o.default !== "" ? ` (default ${o.default})` : "";
    lines.push(`  ${`${o.flag}=VALUE`.padEnd(30)} ${o.help}${def}`);
    lines.push(`  ${"".padEnd(30)} env: ${o.env}`);
  }
  lines.push(`  ${"--help".padEnd(30)} show this help and exit`);
  return lines.join("\n");
}

/** ParsedArgs is the outcome of parseConfig: a config, or a request for help. */
export type ParsedArgs = { help: true } | { help: false; config: Config };

/** parseConfig resolves flags (`--name=value` or `--name value`) over environment variables. */
export function parseConfig(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
): ParsedArgs {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return { help: true };
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const opt = options.find((o) => o.flag === name);
    if (!opt) throw new ConfigError(`unknown flag ${name}; see --help`);
    const value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`${name} needs a value; see --help`);
    flags.set(opt.flag, value);
  }
  const out: Record<string, unknown> = {};
  for (const o of options) {
    const fromFlag = flags.get(o.flag);
    const fromEnv =
      o.env === "MESHID_NAMESPACE" ? (env.MESHID_NAMESPACE ?? env.POD_NAMESPACE) : env[o.env];
    const raw = fromFlag ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : o.default);
    const source = fromFlag !== undefined ? o.flag : fromEnv ? o.env : `${o.flag} default`;
    if (raw !== undefined) out[o.key] = o.parse(raw, source);
  }
  const config = out as unknown as Config;
  config.identity ||= `${hostname()}-${process.pid}`;
  if (config.renewDeadlineMs >= config.leaseDurationMs) {
    throw new ConfigError("--renew-deadline must be shorter than --lease-duration");
  }
  if (config.retryPeriodMs >= config.renewDeadlineMs) {
    throw new ConfigError("--retry-period must be shorter than --renew-deadline");
  }
  return { help: false, config };
}
