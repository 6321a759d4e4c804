/**
 * What the tests of paced, failure-free CA changes share: one mutual TLS handshake between two
 * pods' Secrets, each side trusting only its own ca.crt, and the times the operator let paced
 * re-issues through, with the busiest window among them.
 */
import * as tls from "node:tls";
import type * as k8s from "@kubernetes/client-node";
import { createNamespace, eventually, testKubeConfig } from "./kube";
import { createIdentity, createPods, managedSecrets, secretText } from "./meshid";

/** handshake runs one mutual TLS handshake: server `a`, client `b`, each trusting its ca.crt. */
function handshake(a: k8s.V1Secret, b: k8s.V1Secret): Promise<void> {
  const creds = (s: k8s.V1Secret) => ({
    cert: secretText(s, "tls.crt"),
    key: secretText(s, "tls.key"),
    ca: secretText(s, "ca.crt"),
  });
  return new Promise((resolve, reject) => {
    const server = tls.createServer(
      { ...creds(a), requestCert: true, rejectUnauthorized: true },
      (socket) => socket.end(),
    );
    server.on("tlsClientError", (err) => {
      server.close();
      reject(new Error(`server side: ${err.message}`));
    });
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      // SPIFFE peers are checked by their URI SAN, not a host name: chain and key only here.
      const socket = tls.connect(
        { ...creds(b), host: "127.0.0.1", port, checkServerIdentity: () => undefined },
        () => {
          socket.end();
          server.close();
          resolve();
        },
      );
      socket.on("error", (err: Error) => {
        server.close();
        reject(new Error(`client side: ${err.message}`));
      });
    });
  });
}

/**
 * issuingTimes are the moments the operator let re-issues of `reason` in `namespace` through
 * ("Issuing certificate" is logged right after the pacer's decision, before signing), sorted.
 */
export function issuingTimes(
  logs: Record<string, unknown>[],
  reason: string,
  namespace: string,
): number[] {
  return logs
    .filter(
      (l) =>
        l.message === "Issuing certificate" && l.reason === reason && l.namespace === namespace,
    )
    .map((l) => new Date(l.timestamp as string).getTime())
    .sort((x, y) => x - y);
}

/**
 * busiest is the most of `times` within any window of `ms`. Log timestamps trail the pacer's
 * decision by up to a millisecond: a window of 998 ms for "a second" absorbs that without hiding a
 * burst.
 */
export function busiest(times: number[], ms: number): number {
  return Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + ms).length));
}

/**
 * HandshakeChecker makes pods handshake with each other, ten pairs a round, walking the ring of
 * their Secrets (sorted by name) so every pod serves and connects over a few rounds.
 */
export class HandshakeChecker {
  handshakes = 0;
  readonly failures: string[] = [];
  private rounds = 0;

  /** round runs ten handshakes among `secrets` and returns them sorted by name. */
  async round(secrets: k8s.V1Secret[]): Promise<k8s.V1Secret[]> {
    const list = [...secrets].sort((x, y) =>
      (x.metadata?.name ?? "").localeCompare(y.metadata?.name ?? ""),
    );
    for (let k = 0; k < 10 && list.length > 0; k++) {
      const i = (this.rounds * 10 + k) % list.length;
      const [a, b] = [list[i]!, list[(i + 7) % list.length]!];
      try {
        await handshake(a, b);
        this.handshakes++;
      } catch (err) {
        this.failures.push(`${a.metadata?.name} ← ${b.metadata?.name}: ${(err as Error).message}`);
      }
    }
    this.rounds++;
    return list;
  }
}

/**
 * meshNamespace makes a namespace whose MeshIdentity (10-minute leaves) selects `pods` new pods
 * labelled app=mesh, and waits until each holds its Secret.
 */
export async function meshNamespace(prefix: string, pods: number): Promise<string> {
  const ns = await createNamespace(testKubeConfig(), prefix);
  await createIdentity(ns, "mesh", { selector: { matchLabels: { app: "mesh" } }, duration: "10m" });
  await createPods(ns, "mesh", pods, { app: "mesh" });
  await eventually(
    async () => {
      const n = (await managedSecrets(ns)).length;
      if (n < pods) throw new Error(`${n}/${pods} Secrets`);
    },
    { timeoutMs: 60_000 },
  );
  return ns;
}
