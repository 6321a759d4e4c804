/**
 * Command-line parsing of kubectl-meshid: a command, its positional arguments and kubectl-style
 * flags (`-n NS`, `-nNS`, `--namespace NS`, `--namespace=NS`). Every mistake is a UsageError with a
 * message that says what was wrong and what is accepted; the process exits 2 on it.
 */
import { MeshIdError } from "../errors";

/** UsageError is a bad command line: unknown command or flag, a missing or invalid value. */
export class UsageError extends MeshIdError {
  constructor(message: string) {
    super("UsageError", message);
    this.name = "UsageError";
  }
}

/** commands are the subcommands, in the order help lists them. */
const commands = ["status", "inventory", "inspect", "renew"] as const;

/** Command is one subcommand. */
export type Command = (typeof commands)[number];

/** OutputFormat is the value of -o: the default table, a wider table, JSON or YAML. */
export type OutputFormat = "table" | "wide" | "json" | "yaml";

/** Invocation is a parsed command line. */
export interface Invocation {
  command?: Command;
  args: string[];
  help: boolean;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces: boolean;
  selector?: string;
  output: OutputFormat;
  operatorNamespace: string;
  caSecret: string;
  rootCaSecret: string;
}

interface FlagSpec {
  long: string;
  short?: string;
  /** boolean flags take no value. */
  boolean?: boolean;
  /** commands that accept it; undefined: every command. */
  only?: readonly Command[];
  set: (inv: Invocation, value: string) => void;
}

const outputs: readonly string[] = ["wide", "json", "yaml"];

/** flags are every flag kubectl-meshid accepts, with the commands that accept each. */
const flags: readonly FlagSpec[] = [
  { long: "help", short: "h", boolean: true, set: (i) => (i.help = true) },
  { long: "kubeconfig", set: (i, v) => (i.kubeconfig = v) },
  { long: "context", set: (i, v) => (i.context = v) },
  { long: "namespace", short: "n", set: (i, v) => (i.namespace = v) },
  {
    long: "all-namespaces",
    short: "A",
    boolean: true,
    only: ["status", "inventory"],
    set: (i) => (i.allNamespaces = true),
  },
  { long: "selector", short: "l", only: ["inventory"], set: (i, v) => (i.selector = v) },
  {
    long: "output",
    short: "o",
    only: ["status", "inventory", "inspect"],
    set: (i, v) => {
      if (!outputs.includes(v))
        throw new UsageError(`unknown output format "${v}" for -o: use wide, json or yaml`);
      i.output = v as OutputFormat;
    },
  },
  { long: "operator-namespace", set: (i, v) => (i.operatorNamespace = v) },
  { long: "ca-secret", set: (i, v) => (i.caSecret = v) },
  { long: "root-ca-secret", set: (i, v) => (i.rootCaSecret = v) },
];

function findFlag(token: string): { spec: FlagSpec; inline?: string } {
  const long = /^--([a-z-]+)(?:=(.*))?$/s.exec(token);
  const short = /^-([a-zA-Z])(?:=?(.+))?$/s.exec(token);
  const name = long?.[1] ?? short?.[1];
  const spec = flags.find((f) => (long ? f.long === name : f.short === name));
  if (!spec) throw new UsageError(`unknown flag ${token.split("=")[0]}; see kubectl meshid --help`);
  const inline = long ? long[2] : short?.[2];
  return inline === undefined ? { spec } : { spec, inline };
}

/** parseArgs parses argv (without the program name); throws UsageError on any mistake. */
export function parseArgs(argv: readonly string[]): Invocation {
  const inv: Invocation = {
    args: [],
    help: false,
    allNamespaces: false,
    output: "table",
    operatorNamespace: "meshid-system",
    caSecret: "meshid-ca",
    rootCaSecret: "meshid-root-ca",
  };
  const given: FlagSpec[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === "--") {
      inv.args.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith("-") || token === "-") {
      if (inv.command === undefined && inv.args.length === 0) {
        if (!(commands as readonly string[]).includes(token))
          throw new UsageError(
            `unknown command "${token}": use one of ${commands.join(", ")} (kubectl meshid --help)`,
          );
        inv.command = token as Command;
      } else inv.args.push(token);
      continue;
    }
    const { spec, inline } = findFlag(token);
    let value = inline;
    if (spec.boolean && inline !== undefined)
      throw new UsageError(`flag --${spec.long} takes no value`);
    if (!spec.boolean && value === undefined) value = argv[++i];
    if (!spec.boolean && !value) throw new UsageError(`flag --${spec.long} needs a value`);
    spec.set(inv, value ?? "");
    given.push(spec);
  }
  if (inv.help) return inv;
  for (const spec of given)
    if (spec.only && inv.command && !spec.only.includes(inv.command))
      throw new UsageError(`flag --${spec.long} does not apply to ${inv.command}`);
  if (inv.allNamespaces && inv.namespace !== undefined)
    throw new UsageError("use either --namespace or --all-namespaces, not both");
  return inv;
}

/** TargetKind is what renew and inspect act on. */
export type TargetKind = "pod" | "meshidentity";

const kindNames: Record<string, TargetKind> = {
  pod: "pod",
  pods: "pod",
  po: "pod",
  mid: "meshidentity",
  meshidentity: "meshidentity",
  meshidentities: "meshidentity",
  "meshidentity.meshid.dev": "meshidentity",
  "meshidentities.meshid.dev": "meshidentity",
};

/** parseTarget reads TYPE/NAME, accepting only `allowed` kinds. */
export function parseTarget(
  arg: string,
  allowed: readonly TargetKind[],
): {
  kind: TargetKind;
  name: string;
} {
  const [type = "", name = "", ...rest] = arg.split("/");
  const kind = kindNames[type.toLowerCase()];
  const forms = allowed.map((k) => (k === "pod" ? "pod/NAME" : "mid/NAME")).join(" or ");
  if (!kind || !allowed.includes(kind) || rest.length > 0)
    throw new UsageError(`"${arg}" is not ${forms}`);
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name))
    throw new UsageError(`"${name}" in "${arg}" is not a valid object name`);
  return { kind, name };
}

/**
 * checkArguments refuses positional arguments a command cannot take, before anything contacts the
 * cluster: status and inventory take none, inspect one pod/NAME, renew one or more targets.
 */
export function checkArguments(inv: Invocation): void {
  const { command, args } = inv;
  if (command === "status" || command === "inventory") {
    if (args.length > 0)
      throw new UsageError(`${command} takes no arguments, got "${args.join(" ")}"`);
  } else if (command === "inspect") {
    if (args.length !== 1)
      throw new UsageError(`inspect takes exactly one pod/NAME, got ${args.length} arguments`);
    parseTarget(args[0]!, ["pod"]);
    if (inv.output === "wide")
      throw new UsageError("inspect prints no table: use -o json or -o yaml");
  } else if (command === "renew") {
    if (args.length === 0) throw new UsageError("renew needs at least one mid/NAME or pod/NAME");
    for (const a of args) parseTarget(a, ["meshidentity", "pod"]);
  }
}
