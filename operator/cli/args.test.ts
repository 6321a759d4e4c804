import { checkArguments, parseArgs, parseTarget, UsageError } from "./args";

const parsed = (...argv: string[]) => {
  const inv = parseArgs(argv);
  checkArguments(inv);
  return inv;
};

describe("parseArgs", () => {
  it.each([
    ["reads -n NS", ["inventory", "-n", "shop"], { namespace: "shop" }],
    ["reads -nNS", ["inventory", "-nshop"], { namespace: "shop" }],
    ["reads --namespace=NS", ["inventory", "--namespace=shop"], { namespace: "shop" }],
    ["reads flags before the command", ["-n", "shop", "status"], { command: "status" }],
    ["reads -A", ["status", "-A"], { allNamespaces: true }],
    [
      "reads -l",
      ["inventory", "-l", "app=web,tier in (a,b)"],
      { selector: "app=web,tier in (a,b)" },
    ],
    ["reads -o wide", ["inventory", "-o", "wide"], { output: "wide" }],
    ["reads -o=json", ["status", "-o=json"], { output: "json" }],
    [
      "defaults the operator's namespace and CA Secrets",
      ["status"],
      { operatorNamespace: "meshid-system", caSecret: "meshid-ca", rootCaSecret: "meshid-root-ca" },
    ],
    ["takes targets after --", ["renew", "--", "pod/a"], { args: ["pod/a"] }],
    [
      "accepts --help anywhere, even with flags another command lacks",
      ["status", "-l", "x", "--help"],
      { help: true },
    ],
  ])("%s", (_name, argv, expected) => {
    expect(parsed(...argv)).toMatchObject(expected);
  });

  it.each([
    ["refuses an unknown command", ["frob"], 'unknown command "frob"'],
    ["refuses an unknown flag", ["status", "--frob"], "unknown flag --frob"],
    ["refuses an unknown short flag", ["status", "-x"], "unknown flag -x"],
    ["refuses a flag without its value", ["inventory", "-n"], "flag --namespace needs a value"],
    ["refuses an empty value", ["inventory", "--namespace="], "flag --namespace needs a value"],
    [
      "refuses a value on a boolean flag",
      ["status", "--all-namespaces=yes"],
      "flag --all-namespaces takes no value",
    ],
    [
      "refuses an unknown output format",
      ["status", "-o", "table"],
      'unknown output format "table"',
    ],
    [
      "refuses a flag the command does not take",
      ["renew", "pod/a", "-o", "json"],
      "flag --output does not apply to renew",
    ],
    [
      "refuses -A with -n",
      ["inventory", "-A", "-n", "x"],
      "either --namespace or --all-namespaces",
    ],
    ["refuses arguments to status", ["status", "x"], 'status takes no arguments, got "x"'],
    ["refuses inspect without a pod", ["inspect"], "inspect takes exactly one pod/NAME, got 0"],
    ["refuses inspect of a MeshIdentity", ["inspect", "mid/web"], '"mid/web" is not pod/NAME'],
    ["refuses inspect -o wide", ["inspect", "pod/a", "-o", "wide"], "use -o json or -o yaml"],
    ["refuses renew without a target", ["renew"], "renew needs at least one"],
    [
      "refuses renew of a Deployment",
      ["renew", "deploy/x"],
      '"deploy/x" is not mid/NAME or pod/NAME',
    ],
  ])("%s", (_name, argv, message) => {
    expect(() => parsed(...argv)).toThrow(UsageError);
    expect(() => parsed(...argv)).toThrow(message);
  });
});

describe("parseTarget", () => {
  it.each([
    ["pod/web-0", "pod", "web-0"],
    ["po/web-0", "pod", "web-0"],
    ["mid/payments", "meshidentity", "payments"],
    ["meshidentities.meshid.dev/payments", "meshidentity", "payments"],
  ])("reads %s as a %s named %s", (arg, kind, name) => {
    expect(parseTarget(arg, ["pod", "meshidentity"])).toEqual({ kind, name });
  });

  it.each([["pod/"], ["pod"], ["pod/a/b"], ["pod/UPPER"], ["/a"]])("refuses %j", (arg) => {
    expect(() => parseTarget(arg, ["pod", "meshidentity"])).toThrow(UsageError);
  });
});
