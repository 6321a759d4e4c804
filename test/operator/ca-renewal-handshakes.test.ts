/**
 * Mutual TLS through an intermediate renewal: 40 pods (control plane only, so they stay Pending,
 * but their Secrets are real) while a checker, every second, makes pods handshake with each other
 * using each pod's current Secret: its leaf and chain as its certificate, its own ca.crt as the
 * only trust. Not one handshake may fail while the intermediate is renewed and every leaf moves to
 * the successor, and the move must be paced: no second holds more `ca-change` re-issues than
 * --reissue-rate.
 */
import { X509Certificate } from "node:crypto";
import type * as k8s from "@kubernetes/client-node";
import { startOperator, waitReady, type OperatorProcess } from "../support/operator";
import { busiest, HandshakeChecker, issuingTimes, meshNamespace } from "../support/mtls";
import { core, managedSecrets, secretText, splitPem } from "../support/meshid";

jest.setTimeout(240_000);

const pods = 40;
const rate = 5;
let op: OperatorProcess;

beforeAll(async () => {
  op = await startOperator({
    args: [
      "--ca-intermediate-validity=3m",
      "--ca-renew-fraction=0.25",
      "--ca-recheck-period=5s",
      `--reissue-rate=${rate}`,
    ],
  });
  await waitReady(op);
});

afterAll(async () => {
  await op?.stop();
});

const fingerprint = (pem: string) =>
  new X509Certificate(pem).fingerprint256.replace(/:/g, "").toLowerCase();

const issuerOf = (s: k8s.V1Secret) => fingerprint(splitPem(secretText(s, "tls.crt"))[1] ?? "");

describe("an intermediate renewal under mutual TLS", () => {
  it("fails no handshake while every leaf moves to the successor, paced at the configured rate", async () => {
    const firstPem = secretText(
      (await core.readNamespacedSecret("meshid-ca", op.namespace)).body,
      "tls.crt",
    );
    const ns = await meshNamespace("mtls-renew", pods);

    const checker = new HandshakeChecker();
    let moved = false;
    const deadline = Date.now() + 150_000;
    while (Date.now() < deadline) {
      const started = Date.now();
      const list = await checker.round(await managedSecrets(ns));
      const onFirst = list.filter((s) => issuerOf(s) === fingerprint(firstPem)).length;
      if (list.length === pods && onFirst === 0) {
        if (moved) break; // one more round after the move completed
        moved = true;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (Date.now() - started))));
    }

    expect(checker.failures).toEqual([]);
    expect(moved).toBe(true);
    expect(checker.handshakes).toBeGreaterThanOrEqual(100);

    // Paced: the ca-change re-issues of this namespace, at the moment each was let through.
    const times = issuingTimes(op.logs(), "ca-change", ns);
    const windowOf = (ms: number) => busiest(times, ms);
    console.log(
      `${checker.handshakes} handshakes, 0 failed; ${times.length} ca-change re-issues over ${
        times.length ? (times[times.length - 1]! - times[0]!) / 1000 : 0
      } s; busiest second: ${windowOf(998)}, busiest 5 s: ${windowOf(5_000)} (rate ${rate}/s)`,
    );
    expect(times.length).toBeGreaterThanOrEqual(pods / 2);
    // Unpaced, every leaf would move within a second or two. Paced, they spread over the window
    // (8 s for these 40 alone, longer with other tests' pods in the cluster), and no second
    // holds more than the rate.
    expect(times[times.length - 1]! - times[0]!).toBeGreaterThanOrEqual(((pods - 1) / rate) * 1000);
    expect(windowOf(998)).toBeLessThanOrEqual(rate);
  });
});
