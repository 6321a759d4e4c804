/**
 * kubectl meshid against the real API server and the real operator: the plugin runs as a process,
 * as kubectl runs it, and its answers are checked against the Secrets, certificates and objects
 * the operator wrote.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { parse } from "yaml";
import { bootstrapCa, inspectCertificate } from "../../operator/pki";
import { annotations } from "../../operator/policy/naming";
import { createNamespace, eventually, testKubeConfig, testKubeconfigPath } from "../support/kube";
import {
  core,
  createIdentity,
  createPod,
  getIdentity,
  managedSecrets,
  secretText,
} from "../support/meshid";
import { startOperator, waitReady, type OperatorProcess } from "../support/operator";

jest.setTimeout(120_000);

/** rfc3339 is a time as Kubernetes and the plugin print it: UTC, whole seconds. */
const rfc3339 = (t: Date | string) => new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");

const repoRoot = join(__dirname, "..", "..");
const kc = testKubeConfig();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** meshid runs `kubectl meshid ARGS`: kubectl finds the plugin on PATH, as krew installs it. */
function meshid(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("kubectl", ["meshid", ...args], {
      env: {
        ...process.env,
        PATH: `${join(repoRoot, "hack")}:${process.env.PATH}`,
        KUBECONFIG: testKubeconfigPath(),
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let op: OperatorProcess;
let ns: string;
let opFlag: string;

beforeAll(async () => {
  op = await startOperator();
  opFlag = `--operator-namespace=${op.namespace}`;
  await waitReady(op);
  ns = await createNamespace(kc, "cli");
  await createIdentity(ns, "web", { selector: { matchLabels: { app: "web" } } });
  await createPod(ns, "web-0", { app: "web", tier: "front" });
  await createPod(ns, "web-1", { app: "web" });
  // A pod that mounts its Secret, as the webhook would have made it.
  await core.createNamespacedPod(ns, {
    metadata: { name: "web-m", labels: { app: "web" } },
    spec: {
      containers: [{ name: "app", image: "meshid-test-app" }],
      volumes: [{ name: "meshid-identity", secret: { secretName: "meshid-web-m" } }],
    },
  });
  await createPod(ns, "db-0", { app: "db" });
  await eventually(async () => expect(await managedSecrets(ns)).toHaveLength(3), {
    timeoutMs: 60_000,
  });
}, 180_000);

afterAll(async () => {
  await op?.stop();
});

interface Entry {
  pod: string;
  meshIdentity: string;
  spiffeId: string;
  serial: string;
  issuer: string;
  notAfter: string;
  renewAt: string;
  mounted: boolean;
  secret: string;
  boundToPod: boolean;
}

describe("kubectl meshid inventory", () => {
  it("lists each served pod with the serial, issuer and notAfter of its certificate, renew-at and mounted", async () => {
    const run = await meshid("inventory", "-n", ns, "-o", "json");
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const { items } = JSON.parse(run.stdout) as { items: Entry[] };
    expect(items.map((e) => [e.pod, e.mounted])).toEqual([
      ["web-0", false],
      ["web-1", false],
      ["web-m", true],
    ]);
    for (const secret of await managedSecrets(ns)) {
      const cert = inspectCertificate(secretText(secret, "tls.crt"));
      const entry = items.find((e) => e.secret === secret.metadata?.name)!;
      expect(entry).toMatchObject({
        meshIdentity: "web",
        spiffeId: `spiffe://cluster.local/ns/${ns}/sa/default`,
        serial: cert.serialHex,
        issuer: cert.issuerFingerprint,
        notAfter: rfc3339(cert.notAfter),
        renewAt: rfc3339(secret.metadata!.annotations![annotations.renewAt]!),
        boundToPod: true,
      });
    }
  });

  it("prints a kubectl-style table, wider with -o wide", async () => {
    const table = await meshid("inventory", "-n", ns);
    const [header, ...rows] = table.stdout.trimEnd().split("\n");
    expect(header!.split(/\s{3,}/)).toEqual([
      "POD",
      "MESHIDENTITY",
      "SPIFFE ID",
      "SERIAL",
      "ISSUER",
      "NOT AFTER",
      "RENEW AT",
      "MOUNTED",
    ]);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(["web-0", "web-1", "web-m"]);
    const wide = await meshid("inventory", "-n", ns, "-o", "wide");
    expect(wide.stdout.split("\n")[0]).toMatch(
      /MOUNTED\s+DELIVERY\s+SECRET\s+BOUND TO POD\s+DNS NAMES$/,
    );
  });

  it("narrows to pods matching -l and spans namespaces with -A", async () => {
    const selected = await meshid("inventory", "-n", ns, "-l", "tier=front", "-o", "yaml");
    expect((parse(selected.stdout) as { items: Entry[] }).items.map((e) => e.pod)).toEqual([
      "web-0",
    ]);
    const all = await meshid("inventory", "-A", "-o", "json");
    const pods = (JSON.parse(all.stdout) as { items: (Entry & { namespace: string })[] }).items
      .filter((e) => e.namespace === ns)
      .map((e) => e.pod);
    expect(pods).toEqual(["web-0", "web-1", "web-m"]);
    expect((await meshid("inventory", "-A")).stdout.split("\n")[0]).toMatch(/^NAMESPACE\s+POD/);
  });

  it("refuses a selector the API server cannot parse, with exit code 2", async () => {
    const run = await meshid("inventory", "-n", ns, "-l", "app in ((");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: invalid selector "app in \(\(":/);
  });
});

describe("kubectl meshid status", () => {
  it("reports the CA Ready and the MeshIdentity's selected, issued and mounted counts", async () => {
    const run = await meshid("status", "-n", ns, opFlag, "-o", "json");
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout) as {
      ca: { role: string; state: string; fingerprint: string }[];
      meshIdentities: Record<string, unknown>[];
    };
    const [secret] = await managedSecrets(ns);
    expect(status.ca.map((c) => [c.role, c.state])).toEqual([
      ["signing", "Ready"],
      ["root", "Ready"],
    ]);
    expect(status.ca[0]!.fingerprint).toBe(secret!.metadata!.annotations![annotations.issuer]);
    await eventually(async () => {
      const again = JSON.parse(
        (await meshid("status", "-n", ns, opFlag, "-o", "json")).stdout,
      ) as typeof status;
      expect(again.meshIdentities).toEqual([
        expect.objectContaining({
          name: "web",
          ready: "True",
          // Two of the three pods do not mount their Secret.
          reason: "RestartRequired",
          selected: 3,
          issued: 3,
          secrets: 3,
          mounted: 1,
        }),
      ]);
    });
    const table = await meshid("status", "-n", ns, opFlag);
    expect(table.stdout).toMatch(/^CA\s+SECRET\s+STATE/);
    expect(table.stdout).toMatch(/\nNAME\s+READY\s+REASON\s+SELECTED\s+ISSUED\s+SECRETS\s+MOUNTED/);
  });

  it("reports a missing CA Secret as Missing", async () => {
    const run = await meshid("status", "-n", ns, "--operator-namespace=nowhere", "-o", "yaml");
    const status = parse(run.stdout) as { ca: { state: string }[] };
    expect(status.ca.map((c) => c.state)).toEqual(["Missing", "Missing"]);
  });
});

describe("kubectl meshid inspect", () => {
  it("decodes a pod's certificate and verifies its chain against the namespace's trust bundle", async () => {
    const run = await meshid("inspect", "pod/web-m", "-n", ns, opFlag, "-o", "json");
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as Record<string, Record<string, unknown>>;
    expect(result.secret).toEqual({ name: "meshid-web-m", mounted: true, boundToPod: true });
    expect(result.certificate).toMatchObject({
      spiffeId: `spiffe://cluster.local/ns/${ns}/sa/default`,
      keyMatches: true,
      key: "ECDSA 256",
    });
    expect(result.issuer).toMatchObject({ currentCa: true });
    expect(result.chain).toMatchObject({
      verified: true,
      bundle: `ConfigMap ${ns}/meshid-ca-bundle`,
    });
    expect((result.chain!.path as unknown[]).length).toBe(3);
    const text = await meshid("inspect", "pod/web-m", "-n", ns, opFlag);
    expect(text.stdout).toMatch(/^Chain:\s+verified against ConfigMap/m);
  });

  it("says when a pod has no certificate, and when it does not exist, with exit code 1", async () => {
    const none = await meshid("inspect", "pod/db-0", "-n", ns);
    expect(none).toMatchObject({ code: 1, stdout: "" });
    expect(none.stderr).toMatch(`error: pod ${ns}/db-0 holds no meshid certificate`);
    const missing = await meshid("inspect", "pod/nope", "-n", ns);
    expect(missing).toMatchObject({ code: 1, stderr: `error: pod ${ns}/nope not found\n` });
  });
});

describe("kubectl meshid renew", () => {
  it("writes meshid.dev/renew-requested-at, now in RFC 3339 UTC, on a MeshIdentity and a pod", async () => {
    const before = Date.now();
    const run = await meshid("renew", "mid/web", "pod/web-1", "-n", ns);
    expect(run.code).toBe(0);
    const at = (await getIdentity(ns, "web")).metadata.annotations?.[annotations.renewRequestedAt];
    expect(at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(at!)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(at!)).toBeLessThanOrEqual(Date.now());
    const pod = await core.readNamespacedPod("web-1", ns);
    expect(pod.body.metadata?.annotations?.[annotations.renewRequestedAt]).toBe(at);
    expect(run.stdout).toBe(
      `meshidentity.meshid.dev/web renewal requested (meshid.dev/renew-requested-at=${at})\n` +
        `pod/web-1 renewal requested (meshid.dev/renew-requested-at=${at})\n`,
    );
  });

  it("makes the operator re-issue: a pod at once, then every pod of a MeshIdentity, each once", async () => {
    const serials = async () =>
      Object.fromEntries(
        (await managedSecrets(ns)).map((s) => [
          s.metadata!.name!,
          s.metadata!.annotations![annotations.serial]!,
        ]),
      );
    // The MeshIdentity-wide request of the test before is paced: "before" is taken once every
    // Secret has answered it, or its late re-issues would look like re-issues of this request.
    const earlier = (await getIdentity(ns, "web")).metadata.annotations?.[
      annotations.renewRequestedAt
    ];
    if (earlier)
      await eventually(
        async () => {
          const pending = (await managedSecrets(ns)).filter(
            (s) => s.metadata?.annotations?.[annotations.renewedFor] !== earlier,
          );
          if (pending.length > 0) throw new Error(`${pending.length} not re-issued yet`);
        },
        { timeoutMs: 20_000 },
      );
    const before = await serials();
    expect((await meshid("renew", "pod/web-0", "-n", ns)).code).toBe(0);
    const afterPod = await eventually(
      async () => {
        const now = await serials();
        if (now["meshid-web-0"] === before["meshid-web-0"])
          throw new Error("web-0 not re-issued yet");
        return now;
      },
      { timeoutMs: 20_000 },
    );
    expect(afterPod["meshid-web-m"]).toBe(before["meshid-web-m"]);

    expect((await meshid("renew", "mid/web", "-n", ns)).code).toBe(0);
    const afterAll = await eventually(
      async () => {
        const now = await serials();
        const same = Object.keys(now).filter((k) => now[k] === afterPod[k]);
        if (same.length > 0) throw new Error(`not re-issued yet: ${same.join(", ")}`);
        return now;
      },
      { timeoutMs: 30_000 },
    );
    // Each once: a further look at the same requests changes nothing.
    const logged = () =>
      op.logs().filter((l) => l.message === "Issued certificate" && l.reason === "requested");
    const count = logged().length;
    expect(count).toBeGreaterThanOrEqual(4);
    await eventually(async () => expect(await serials()).toEqual(afterAll), { timeoutMs: 5_000 });
    expect(logged().length).toBe(count);
  });

  it("fails with exit code 1 on a MeshIdentity that does not exist", async () => {
    const run = await meshid("renew", "mid/nope", "-n", ns);
    expect(run).toMatchObject({ code: 1, stderr: `error: MeshIdentity ${ns}/nope not found\n` });
  });
});

describe("kubectl meshid on a bad command line", () => {
  it.each([
    [["frob"], /unknown command "frob"/],
    [["inventory", "-o", "xml"], /unknown output format "xml"/],
    [["inspect", "deploy/x"], /"deploy\/x" is not pod\/NAME/],
    [["renew"], /renew needs at least one mid\/NAME or pod\/NAME/],
    [["status", "-A", "-n", "x"], /either --namespace or --all-namespaces/],
    [["inventory", "--context", "nope"], /context "nope" is not in the kubeconfig/],
  ])("refuses %j with exit code 2 and says why", async (args, message) => {
    const run = await meshid(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it("prints help for every command with exit code 0", async () => {
    for (const cmd of ["status", "inventory", "inspect", "renew"]) {
      const run = await meshid(cmd, "--help");
      expect(run).toMatchObject({ code: 0, stderr: "" });
      expect(run.stdout).toMatch(new RegExp(`^kubectl meshid ${cmd}: `));
    }
  });
});

describe("kubectl meshid inspect on a bundle that does not hold its root", () => {
  it("says NOT VERIFIED and exits 1", async () => {
    // The operator would restore the bundle: stop it first.
    await op.stop();
    const other = await bootstrapCa({
      trustDomain: "cluster.local",
      clusterDomain: "cluster.local",
      dnsSuffixes: ["svc"],
      now: new Date(),
    });
    await core.patchNamespacedConfigMap(
      "meshid-ca-bundle",
      ns,
      { data: { "ca.crt": other.root.certPem } },
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      { headers: { "Content-Type": "application/merge-patch+json" } },
    );
    const run = await meshid("inspect", "pod/web-0", "-n", ns);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^Chain:\s+NOT VERIFIED against ConfigMap .*does not chain to a trusted root/m,
    );
  });
});
