/**
 * manifests/monitoring: the Grafana dashboard and the PrometheusRule query only metrics the operator
 * exports (names read from its own metrics registry), every expression parses with Prometheus's
 * parser, the rules pass promtool, and kustomize renders both.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments, stringify } from "yaml";
import { repoRoot } from "../gen-manifests";
import { exportedMetricNames, promqlMetrics, promtoolBinary, type ExprMetrics } from "./promql";

const dir = join(repoRoot, "manifests", "monitoring");

interface Panel {
  id: number;
  title: string;
  datasource: { uid: string };
  targets: { expr: string }[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; definition?: string }[] };
}
interface Rule {
  alert?: string;
  annotations?: Record<string, string>;
  record?: string;
  expr: string;
}
interface RuleFile {
  kind: string;
  metadata: { namespace: string };
  spec: { groups: { name: string; rules: Rule[] }[] };
}

const dashboard = JSON.parse(
  readFileSync(join(dir, "grafana-dashboard.json"), "utf8"),
) as Dashboard;
const ruleFile = parse(readFileSync(join(dir, "prometheus-rule.yaml"), "utf8")) as RuleFile;
const rules = ruleFile.spec.groups.flatMap((g) => g.rules);

/** promql turns a Grafana query into PromQL: its variables take values Grafana could give them. */
function promql(expr: string): string {
  const out = expr.replace(/\$__rate_interval/g, "5m").replace(/\$namespace/g, ".*");
  if (out.includes("$")) throw new Error(`unknown Grafana variable in ${expr}`);
  return out;
}

/** unexported lists, per expression, what does not parse or names a metric /metrics lacks. */
function unexported(found: ExprMetrics[], exported: Set<string>) {
  return found
    .map((f) => ({
      expr: f.expr,
      error: f.error,
      unknown: f.metrics.filter((m) => !exported.has(m)),
    }))
    .filter((f) => f.error || f.unknown.length > 0);
}

let exported: Set<string>;
// promtool is built from the Go module proxy on first use: minutes on a cold machine.
beforeAll(async () => {
  exported = await exportedMetricNames();
  promtoolBinary();
}, 900_000);

describe("exportedMetricNames", () => {
  it("reads the operator's registry, histogram series included", () => {
    expect(exported).toContain("meshid_certificates_issued_total");
    expect(exported).toContain("meshid_issuance_latency_seconds_bucket");
    expect(exported).toContain("meshid_process_nodejs_eventloop_lag_seconds");
    expect(exported).not.toContain("meshid_issuance_latency_seconds_total");
  });
});

describe("the check of expressions", () => {
  it("reports a metric the operator does not export, and an expression that does not parse", () => {
    const found = promqlMetrics(["rate(meshid_certificates_renewed_total[5m])", "sum(rate(x[5m])"]);
    expect(unexported(found, exported)).toEqual([
      expect.objectContaining({ unknown: ["meshid_certificates_renewed_total"] }),
      expect.objectContaining({ error: expect.stringMatching(/parse error/) as unknown }),
    ]);
  });
});

describe("grafana-dashboard.json", () => {
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => promql(t.expr)));

  it("queries only metrics the operator exports, in PromQL that parses", () => {
    expect(exprs.length).toBeGreaterThanOrEqual(10);
    expect(unexported(promqlMetrics(exprs), exported)).toEqual([]);
  });

  it.each([
    ["issuance rate", "meshid_certificates_issued_total"],
    ["latency quantiles", "meshid_issuance_latency_seconds_bucket"],
    ["failures by reason", "meshid_issuance_failures_total"],
    ["earliest expiry per MeshIdentity", "meshid_certificate_earliest_expiry_timestamp_seconds"],
    ["CA expiry", "meshid_ca_expiry_timestamp_seconds"],
    ["queue depth", "meshid_queue_depth"],
    ["leader", "meshid_leader"],
  ])("shows the %s (%s)", (_what, metric) => {
    expect(promqlMetrics(exprs).some((f) => f.metrics.includes(metric))).toBe(true);
  });

  it("draws latency quantiles per le and earliest expiry per namespace and MeshIdentity", () => {
    expect(
      exprs.filter((e) => /histogram_quantile\(0\.(5|9|99), sum by \(le\)/.test(e)),
    ).toHaveLength(3);
    expect(exprs.some((e) => e.startsWith("min by (namespace, meshidentity)"))).toBe(true);
  });

  it("gives every panel its own id and the data source chosen in the dashboard", () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.panels.map((p) => p.datasource.uid)).toEqual(ids.map(() => "${datasource}"));
  });

  it("lists namespaces from a metric the operator exports", () => {
    const ns = dashboard.templating.list.find((v) => v.name === "namespace");
    const metric = /^label_values\((\w+), namespace\)$/.exec(ns?.definition ?? "")?.[1];
    expect(exported.has(metric ?? "")).toBe(true);
  });
});

describe("prometheus-rule.yaml", () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "meshid-rules-"));
    writeFileSync(join(work, "rules.yaml"), stringify({ groups: ruleFile.spec.groups }));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("passes promtool check rules", () => {
    const r = spawnSync(promtoolBinary(), ["check", "rules", join(work, "rules.yaml")], {
      encoding: "utf8",
    });
    expect({ code: r.status, out: r.stdout + r.stderr }).toEqual({
      code: 0,
      out: expect.stringContaining(`SUCCESS: ${rules.length} rules found`) as unknown,
    });
  });

  it("names only metrics the operator exports", () => {
    expect(unexported(promqlMetrics(rules.map((r) => r.expr)), exported)).toEqual([]);
  });

  it("fires MeshIdNoLeader after 5 minutes without a leader, and not before (promtool test rules)", () => {
    const noLeader = rules.find((r) => r.alert === "MeshIdNoLeader")!;
    const test = {
      rule_files: ["rules.yaml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [{ series: 'meshid_leader{pod="meshid-0"}', values: "1 1 0x10" }],
          alert_rule_test: [
            { eval_time: "5m", alertname: "MeshIdNoLeader", exp_alerts: [] },
            {
              eval_time: "8m",
              alertname: "MeshIdNoLeader",
              exp_alerts: [
                { exp_labels: { severity: "critical" }, exp_annotations: noLeader.annotations },
              ],
            },
          ],
        },
      ],
    };
    writeFileSync(join(work, "rules-test.yaml"), stringify(test));
    const out = execFileSync(promtoolBinary(), ["test", "rules", "rules-test.yaml"], {
      cwd: work,
      encoding: "utf8",
    });
    expect(out).toMatch(/SUCCESS/);
  });
});

describe("kubectl kustomize manifests/monitoring", () => {
  const docs = parseAllDocuments(
    execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8" }),
  ).map(
    (d) =>
      d.toJSON() as {
        kind: string;
        metadata: Record<string, unknown>;
        data?: Record<string, string>;
      },
  );

  it("renders the PrometheusRule and the dashboard ConfigMap Grafana's sidecar picks up", () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(["ConfigMap", "PrometheusRule"]);
    const cm = docs.find((d) => d.kind === "ConfigMap")!;
    expect(cm.metadata).toMatchObject({
      name: "meshid-grafana-dashboard",
      namespace: "meshid-system",
      labels: { grafana_dashboard: "1" },
    });
    expect(JSON.parse(cm.data!["grafana-dashboard.json"]!)).toEqual(dashboard);
  });
});
