/**
 * Rotation with short lifetimes on the real API server: duration 10m and renewBefore 9m put each
 * renewal 6-60 s after issuance (9m plus up to 10% jitter before a 10-minute notAfter).
 */
import { createNamespace, eventually, testKubeConfig } from "../support/kube";
import { startOperator, waitReady, type OperatorProcess } from "../support/operator";
import {
  createIdentity,
  createPods,
  managedSecrets,
  opensslVerify,
  secretText,
} from "../support/meshid";
import { inspectCertificate } from "../../operator/pki";

jest.setTimeout(180_000);

const kc = testKubeConfig();
let op: OperatorProcess;

beforeAll(async () => {
  op = await startOperator();
  await waitReady(op);
});

afterAll(async () => {
  await op?.stop();
});

/** Leaves are backdated by five minutes for clock skew (operator/pki). */
const backdateMs = 5 * 60_000;

describe("rotation", () => {
  it("renews each certificate at its own renew-at, with a new serial and a new key", async () => {
    const ns = await createNamespace(kc, "rotate");
    await createIdentity(ns, "short", {
      selector: { matchLabels: { app: "short" } },
      duration: "10m",
      renewBefore: "9m",
    });
    await createPods(ns, "short", 3, { app: "short" });

    const first = await eventually(
      async () => {
        const list = await managedSecrets(ns);
        if (list.length < 3) throw new Error(`${list.length}/3 Secrets`);
        return list;
      },
      { timeoutMs: 60_000 },
    );
    const initial = new Map(
      first.map((s) => [
        s.metadata!.name!,
        {
          serial: inspectCertificate(secretText(s, "tls.crt")).serialHex,
          key: secretText(s, "tls.key"),
          renewAt: new Date(s.metadata!.annotations!["meshid.dev/renew-at"]!),
        },
      ]),
    );
    expect(new Set([...initial.values()].map((v) => v.renewAt.getTime())).size).toBe(3);

    const renewed = await eventually(
      async () => {
        const list = await managedSecrets(ns);
        const changed = list.filter(
          (s) =>
            inspectCertificate(secretText(s, "tls.crt")).serialHex !==
            initial.get(s.metadata!.name!)?.serial,
        );
        if (changed.length < 3) throw new Error(`${changed.length}/3 renewed`);
        return changed;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    for (const s of renewed) {
      const before = initial.get(s.metadata!.name!)!;
      const issuedAt =
        inspectCertificate(secretText(s, "tls.crt")).notBefore.getTime() + backdateMs;
      // notBefore and the renew-at annotation have whole seconds.
      expect(issuedAt).toBeGreaterThanOrEqual(before.renewAt.getTime() - 1_000);
      expect(secretText(s, "tls.key")).not.toBe(before.key);
      opensslVerify(s);
    }
    // Every renewal, including a second one inside the wait, came at most a few seconds after the
    // renew-at of the certificate it replaced (the operator logs each issuance with its renew-at).
    const issued = op
      .logs()
      .filter((l) => l.message === "Issued certificate" && l.namespace === ns);
    for (const pod of ["short-0", "short-1", "short-2"]) {
      const mine = issued.filter((l) => l.name === pod);
      expect(mine.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < mine.length; i++) {
        const lateMs =
          Date.parse(mine[i]!.timestamp as string) - Date.parse(mine[i - 1]!.renewAt as string);
        expect(mine[i]!.reason).toBe("renewal");
        expect(lateMs).toBeGreaterThan(-1_000);
        expect(lateMs).toBeLessThan(5_000);
      }
    }
  });
});
