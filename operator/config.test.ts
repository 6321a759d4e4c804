import { ConfigError, helpText, options, parseConfig } from "./config";

const config = (argv: string[], env: Record<string, string> = {}) => {
  const parsed = parseConfig(argv, env);
  if (parsed.help) throw new Error("unexpected help");
  return parsed.config;
};

describe("parseConfig", () => {
  it("uses the documented defaults", () => {
    const c = config([]);
    expect(c).toMatchObject({
      trustDomain: "cluster.local",
      clusterDomain: "cluster.local",
      namespace: "meshid-system",
      caMode: "bootstrap",
      caSecret: "meshid-ca",
      logLevel: "info",
      healthPort: 8081,
      leaderElect: true,
      leaseDurationMs: 15_000,
      allowedDnsSuffixes: [],
      webhookPort: 9443,
      webhookConfigName: "meshid",
      webhookService: "meshid-webhook",
      webhookCertIps: [],
      caIntermediateValidityMs: 365 * 24 * 3_600_000,
      caRootValidityMs: 3650 * 24 * 3_600_000,
      caRenewFraction: 0.667,
      reissueRate: 20,
    });
  });

  it.each([
    ["0", /--ca-renew-fraction: "0" is not a fraction between 0 and 1/],
    ["1.5", /--ca-renew-fraction: "1.5" is not a fraction between 0 and 1/],
  ])("refuses --ca-renew-fraction=%s", (raw, message) => {
    expect(() => config([`--ca-renew-fraction=${raw}`])).toThrow(message);
  });

  it.each([
    ["LOG_LEVEL=DEBUG logs at debug", { LOG_LEVEL: "DEBUG" }, "debug"],
    ["LOG_LEVEL=debug logs at debug", { LOG_LEVEL: "debug" }, "debug"],
    ["LOG_LEVEL=Warn logs at warn", { LOG_LEVEL: "Warn" }, "warn"],
  ])("%s", (_n, env, level) => {
    expect(config([], env).logLevel).toBe(level);
  });

  it.each([
    ["an unknown log level", ["--log-level=verbose"], /--log-level: "verbose" is not a log level/],
    [
      "an unknown log level from the environment",
      [],
      /LOG_LEVEL: "loud" is not a log level/,
      { LOG_LEVEL: "loud" },
    ],
    ["an unknown flag", ["--trust"], /unknown flag --trust/],
    ["a flag without its value", ["--trust-domain"], /--trust-domain needs a value/],
    ["a trust domain that is no DNS name", ["--trust-domain=Not A Domain"], /not a DNS name/],
    ["a bad CA mode", ["--ca-mode=vault"], /bootstrap or external/],
    ["a bad port", ["--health-port=70000"], /not a port/],
    ["a bad duration", ["--lease-duration=soon"], /not a duration/],
    [
      "a renew deadline not below the lease duration",
      ["--lease-duration=10s", "--renew-deadline=10s"],
      /renew-deadline must be shorter/,
    ],
  ])(
    "refuses %s with a message naming it",
    (_n, argv, message, env: Record<string, string> = {}) => {
      expect(() => parseConfig(argv, env)).toThrow(ConfigError);
      expect(() => parseConfig(argv, env)).toThrow(message);
    },
  );

  it("lets a flag win over its environment variable", () => {
    expect(
      config(["--trust-domain", "prod.example"], { MESHID_TRUST_DOMAIN: "env.example" })
        .trustDomain,
    ).toBe("prod.example");
  });

  it("reads the operator namespace from POD_NAMESPACE when MESHID_NAMESPACE is unset", () => {
    expect(config([], { POD_NAMESPACE: "ops" }).namespace).toBe("ops");
  });

  it("splits and normalises the allowed DNS suffixes", () => {
    expect(
      config(["--allowed-dns-suffixes=.Mesh.Example.com, corp.internal"]).allowedDnsSuffixes,
    ).toEqual(["mesh.example.com", "corp.internal"]);
  });

  it("asks for help on --help and -h", () => {
    expect(parseConfig(["--help"], {})).toEqual({ help: true });
    expect(parseConfig(["-h"], {})).toEqual({ help: true });
  });
});

describe("helpText", () => {
  it("lists every flag with its environment variable", () => {
    const text = helpText();
    for (const o of options) {
      expect(text).toContain(o.flag);
      expect(text).toContain(`env: ${o.env}`);
    }
  });
});
