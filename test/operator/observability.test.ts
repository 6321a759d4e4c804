/**
 * What an operator on call sees: /metrics after issuance and failures, /readyz around the CA, and
 * no key material in any log line, Event, status or metric.
 */
import * as http from "node:http";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { createNamespace, eventually, testKubeConfig } from "../support/kube";
import { freePort, startOperator, waitReady, type OperatorProcess } from "../support/operator";
import {
  core,
  createIdentity,
  createPod,
  getIdentity,
  managedSecrets,
  secretText,
} from "../support/meshid";
import { bootstrapCa, encodeCaSecretData } from "../../operator/pki";

jest.setTimeout(120_000);

const kc = testKubeConfig();
const running: OperatorProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((op) => op.stop()));
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    http
      .get({ host: "127.0.0.1", port, path, timeout: 5_000 }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", () => resolve({ status: 0, body: "" }));
  });
}

function metric(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const [series, value] = line.split(" ");
    if (series === undefined || value === undefined) continue;
    const rest = series.slice(name.length);
    if (rest !== "" && !rest.startsWith("{")) continue;
    if (Object.entries(labels).every(([k, v]) => rest.includes(`${k}="${v}"`)))
      return Number(value);
  }
  return undefined;
}

describe("metrics, readiness and secrecy", () => {
  let op: OperatorProcess;
  let metricsPort: number;
  let ns: string;

  beforeAll(async () => {
    metricsPort = await freePort();
    op = await startOperator({
      args: [`--metrics-port=${metricsPort}`],
      env: { LOG_LEVEL: "DEBUG" },
    });
    running.push(op);
    await waitReady(op);
    ns = await createNamespace(kc, "obs");
    await createIdentity(ns, "web", { selector: { matchLabels: { app: "web" } } });
    for (const p of ["web-0", "web-1", "web-2"]) await createPod(ns, p, { app: "web" });
  });

  it("counts three issued certificates and observes three issuance latencies", async () => {
    await eventually(
      async () => {
        const { body } = await get(metricsPort, "/metrics");
        expect(
          metric(body, "meshid_certificates_issued_total", { namespace: ns, reason: "new" }),
        ).toBe(3);
        // Operators reconcile every namespace, and earlier test files leave pods without a
        // certificate (e.g. under a corrupt CA): count only this test's namespace.
        expect(metric(body, "meshid_issuance_latency_seconds_count", { namespace: ns })).toBe(3);
        expect(metric(body, "meshid_leader")).toBe(1);
        expect(metric(body, "meshid_ca_expiry_timestamp_seconds")).toBeGreaterThan(
          Date.now() / 1000,
        );
        expect(
          metric(body, "meshid_certificate_earliest_expiry_timestamp_seconds", {
            namespace: ns,
            meshidentity: "web",
          }),
        ).toBeGreaterThan(Date.now() / 1000);
      },
      { timeoutMs: 60_000 },
    );
  });

  it("observes a pod's latency once, even when its deleted Secret is issued as new again", async () => {
    const [first] = await managedSecrets(ns);
    await core.deleteNamespacedSecret(first!.metadata!.name!, ns);
    await eventually(
      async () => {
        const { body } = await get(metricsPort, "/metrics");
        expect(
          metric(body, "meshid_certificates_issued_total", { namespace: ns, reason: "new" }),
        ).toBe(4);
        expect(metric(body, "meshid_issuance_latency_seconds_count", { namespace: ns })).toBe(3);
      },
      { timeoutMs: 60_000 },
    );
  });

  it("counts a failure by its reason", async () => {
    // A foreign Secret already holds the name the pod's certificate would get.
    await core.createNamespacedSecret(ns, {
      metadata: { name: "meshid-web-taken" },
      stringData: { mine: "yes" },
    });
    await createPod(ns, "web-taken", { app: "web" });
    await eventually(async () => {
      const { body } = await get(metricsPort, "/metrics");
      expect(
        metric(body, "meshid_issuance_failures_total", { reason: "SecretConflict" }),
      ).toBeGreaterThanOrEqual(1);
    });
    const foreign = await core.readNamespacedSecret("meshid-web-taken", ns);
    expect(Buffer.from(foreign.body.data!.mine!, "base64").toString()).toBe("yes");
  });

  it("logs at debug level when LOG_LEVEL=DEBUG", () => {
    expect(op.logs().some((l) => l.level === "debug")).toBe(true);
  });

  it("never writes key material to logs, Events, status or metrics", async () => {
    const secrets = await managedSecrets(ns);
    expect(secrets.length).toBeGreaterThanOrEqual(3);
    // The base64 body of each issued key, in pieces long enough to be unambiguous.
    const keyPieces = secrets.flatMap((s) =>
      secretText(s, "tls.key")
        .split("\n")
        .filter((l) => l.length >= 40 && !l.startsWith("-----")),
    );
    const { body: metrics } = await get(metricsPort, "/metrics");
    const { body: events } = await core.listNamespacedEvent(ns);
    const status = JSON.stringify((await getIdentity(ns, "web")).status);
    const haystacks = {
      log: readFileSync(op.logFile, "utf8"),
      events: JSON.stringify(events.items),
      status,
      metrics,
    };
    for (const [where, text] of Object.entries(haystacks)) {
      expect({ where, privateKeyPem: text.includes("PRIVATE KEY") }).toEqual({
        where,
        privateKeyPem: false,
      });
      for (const piece of keyPieces)
        expect({ where, leaked: text.includes(piece) }).toEqual({ where, leaked: false });
    }
  });
});

describe("readiness", () => {
  it("is not ready before the CA is loaded and is ready after", async () => {
    const opNs = await createNamespace(kc, "meshid-ext");
    const op = await startOperator({ namespace: opNs, args: ["--ca-mode=external"] });
    running.push(op);
    await eventually(async () => expect(await op.readyz()).toBe(503), { timeoutMs: 30_000 });
    const ca = await bootstrapCa({
      trustDomain: "cluster.local",
      clusterDomain: "cluster.local",
      dnsSuffixes: ["svc"],
      now: new Date(),
    });
    await core.createNamespacedSecret(opNs, {
      metadata: { name: "meshid-ca" },
      type: "kubernetes.io/tls",
      data: { ...encodeCaSecretData({ ...ca.intermediate, caPem: ca.root.certPem }) },
    });
    await waitReady(op, 60_000);
  });
});

describe("log level at start", () => {
  it.each([
    [
      "LOG_LEVEL=loud",
      { LOG_LEVEL: "loud" },
      /LOG_LEVEL: "loud" is not a log level \(one of error, warn, info, debug, any case\)/,
    ],
    ["--log-level=trace", {}, /--log-level: "trace" is not a log level/],
  ])("refuses %s with a clear message and exit code 2", (_n, env, message) => {
    const args = ["--import", "tsx", join(__dirname, "..", "..", "operator", "main.ts")];
    if (_n.startsWith("--")) args.push(_n);
    const run = spawnSync(process.execPath, args, {
      env: { ...process.env, ...env },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
