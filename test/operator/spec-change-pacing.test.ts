/**
 * A MeshIdentity spec change is a mass re-issue: every pod it selects needs a new certificate.
 * With the real operator and API server, the re-issues spread over a window of pods / rate, and no
 * second holds more of them than --reissue-rate, while each pod keeps a valid certificate until its
 * turn.
 */
import { X509Certificate } from "node:crypto";
import { createNamespace, eventually, testKubeConfig } from "../support/kube";
import { startOperator, waitReady, type OperatorProcess } from "../support/operator";
import { busiest, issuingTimes } from "../support/mtls";
import {
  createIdentity,
  createPods,
  getIdentity,
  managedSecrets,
  patchIdentitySpec,
  secretText,
} from "../support/meshid";

jest.setTimeout(180_000);

const kc = testKubeConfig();
const pods = 30;
const rate = 5;
let op: OperatorProcess;

beforeAll(async () => {
  op = await startOperator({ args: [`--reissue-rate=${rate}`] });
  await waitReady(op);
});

afterAll(async () => {
  await op?.stop();
});

const dnsNamesOf = (pem: string) =>
  (new X509Certificate(pem).subjectAltName ?? "")
    .split(", ")
    .filter((n) => n.startsWith("DNS:"))
    .map((n) => n.slice(4))
    .sort();

describe("a MeshIdentity spec change", () => {
  it("re-issues every selected pod's certificate paced at the configured rate, not in one burst", async () => {
    const ns = await createNamespace(kc, "spec-pace");
    await createIdentity(ns, "mesh", {
      selector: { matchLabels: { app: "mesh" } },
      dnsNames: [`mesh.${ns}.svc`],
      duration: "1h",
    });
    await createPods(ns, "mesh", pods, { app: "mesh" });
    await eventually(
      async () => {
        const n = (await managedSecrets(ns)).length;
        const selected = (await getIdentity(ns, "mesh")).status?.selectedPods ?? 0;
        if (n < pods || selected < pods)
          throw new Error(`${n}/${pods} Secrets, ${selected} selected`);
      },
      { timeoutMs: 60_000 },
    );

    const changedAt = Date.now();
    await patchIdentitySpec(ns, "mesh", { dnsNames: [`mesh.${ns}.svc`, `mesh-v2.${ns}.svc`] });
    const wanted = [`mesh-v2.${ns}.svc`, `mesh.${ns}.svc`];

    // Until its turn, each pod keeps a certificate; at some moment some are moved and some wait.
    let sawPartial = false;
    await eventually(
      async () => {
        const list = await managedSecrets(ns);
        const moved = list.filter(
          (s) => JSON.stringify(dnsNamesOf(secretText(s, "tls.crt"))) === JSON.stringify(wanted),
        ).length;
        expect(list).toHaveLength(pods);
        if (moved > 0 && moved < pods) sawPartial = true;
        if (moved < pods) throw new Error(`${moved}/${pods} moved`);
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(sawPartial).toBe(true);

    const times = issuingTimes(op.logs(), "spec-change", ns);
    const windowOf = (ms: number) => busiest(times, ms);
    console.log(
      `${times.length} spec-change re-issues over ${(times[times.length - 1]! - times[0]!) / 1000} s, ` +
        `the last ${(times[times.length - 1]! - changedAt) / 1000} s after the change; ` +
        `busiest second: ${windowOf(998)} (rate ${rate}/s)`,
    );
    expect(times).toHaveLength(pods);
    // Unpaced, all 30 would be re-issued within a second or two; paced, the window is 6 s.
    expect(times[times.length - 1]! - times[0]!).toBeGreaterThanOrEqual(
      ((pods - 1) / rate) * 1000 - 50,
    );
    expect(windowOf(998)).toBeLessThanOrEqual(rate);
  });
});
