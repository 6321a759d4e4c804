import * as https from "node:https";
import { newTestCa } from "../pki/testing/fixtures";
import type { TLSSocket } from "node:tls";
import { Writable } from "node:stream";
import type { V1MutatingWebhook, V1MutatingWebhookConfiguration } from "@kubernetes/client-node";
import { type SigningCa } from "../pki";
import type { WebhookConfigPort } from "../kube/client";
import { FakeClock, flush } from "../testing/fake-clock";
import { createLogger } from "../logger";
import { WebhookManager } from "./webhook-manager";

type LogLine = Record<string, unknown> & { message: string };

/** LogLines collects the logger's JSON lines and lets a test await one. */
class LogLines extends Writable {
  readonly lines: LogLine[] = [];
  private waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const text of chunk.toString("utf8").split("\n").filter(Boolean)) {
      const line = JSON.parse(text) as LogLine;
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => !(w.match(line) && (w.resolve(line), true)));
    }
    done();
  }

  /** next resolves with the n-th line (1-based) whose message is `message`. */
  next(message: string, n = 1): Promise<LogLine> {
    const seen = this.lines.filter((l) => l.message === message);
    if (seen.length >= n) return Promise.resolve(seen[n - 1]!);
    let count = seen.length;
    return new Promise((resolve) =>
      this.waiters.push({ match: (l) => l.message === message && ++count === n, resolve }),
    );
  }
}

/** FakeWebhookConfigs is a narrow in-memory WebhookConfigPort applying JSON patches of caBundle. */
class FakeWebhookConfigs implements WebhookConfigPort {
  gets = 0;
  patches: unknown[][] = [];
  private patched?: () => void;
  constructor(public cfg: V1MutatingWebhookConfiguration | undefined) {}

  async getMutatingWebhookConfiguration(name: string) {
    this.gets++;
    return name === "meshid" ? structuredClone(this.cfg) : undefined;
  }
  async patchMutatingWebhookConfiguration(_name: string, ops: unknown[]) {
    this.patches.push(ops);
    for (const op of ops as { path: string; value: string }[]) {
      const i = Number(op.path.split("/")[2]);
      this.cfg!.webhooks![i]!.clientConfig.caBundle = op.value;
    }
    this.patched?.();
  }
  /** nextPatch resolves at the next patch. */
  nextPatch(): Promise<void> {
    return new Promise((resolve) => (this.patched = resolve));
  }
}

const webhook = (name: string, caBundle?: string): V1MutatingWebhook => ({
  name,
  admissionReviewVersions: ["v1"],
  sideEffects: "None",
  clientConfig: {
    service: { name: "meshid-webhook", namespace: "meshid-system", path: "/mutate-pods" },
    ...(caBundle !== undefined ? { caBundle } : {}),
  },
});

const configuration = (...webhooks: V1MutatingWebhook[]): V1MutatingWebhookConfiguration => ({
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "MutatingWebhookConfiguration",
  metadata: { name: "meshid" },
  webhooks,
});

const service = "meshid-webhook.meshid-system.svc";

async function signingCaOf(now: Date): Promise<SigningCa> {
  return (await newTestCa({ now })).ca;
}

let ca: SigningCa;
let otherCa: SigningCa;
beforeAll(async () => {
  const now = new FakeClock().now();
  [ca, otherCa] = await Promise.all([signingCaOf(now), signingCaOf(now)]);
});

const bundleOf = (c: SigningCa) => Buffer.from(c.trustBundlePem).toString("base64");

let stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.map((s) => s()));
  stops = [];
});

function setup(cfg: V1MutatingWebhookConfiguration | undefined) {
  // The serving certificate's validity is checked against the real time by the TLS client, so
  // the fake clock starts now.
  const clock = new FakeClock(new Date());
  const kube = new FakeWebhookConfigs(cfg);
  const log = new LogLines();
  const manager = new WebhookManager({
    kube,
    clock,
    logger: createLogger("debug", log),
    config: {
      namespace: "meshid-system",
      trustDomain: "cluster.local",
      clusterDomain: "cluster.local",
      bindAddress: "127.0.0.1",
      webhookPort: 0,
      webhookConfigName: "meshid",
      webhookService: "meshid-webhook",
      webhookCertIps: [],
    },
    admission: { identities: () => [], randomToken: () => "bcdfghjklm" },
  });
  let caKnown = false;
  const caChanged = (c: SigningCa) => {
    caKnown = true;
    manager.caChanged(c);
  };
  // Wait for the certificate before stopping, so each test ends with the state it asserted on
  // (stopping during the first issuance is its own case below).
  stops.push(async () => {
    if (caKnown) await log.next("Issued webhook serving certificate");
    await manager.stop();
  });
  return { clock, kube, log, manager, caChanged };
}

/** get sends GET / over TLS, trusting only `trust`, and returns the status and the peer's SANs. */
function get(port: number, trust: SigningCa): Promise<{ status: number; san: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        path: "/",
        servername: service,
        ca: trust.trustBundlePem,
        agent: false,
      },
      (res) => {
        const san = (res.socket as TLSSocket).getPeerCertificate().subjectaltname ?? "";
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, san }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("WebhookManager", () => {
  it("serves HTTPS on the port it logs, with a certificate for its Service from the CA, once the CA is known", async () => {
    const { manager, log, caChanged } = setup(
      configuration(webhook("pods.meshid.dev", bundleOf(ca))),
    );
    expect(manager.serving).toBe(false);
    caChanged(ca);
    const { port } = (await log.next("Serving admission webhook")) as LogLine & { port: number };
    expect(manager.serving).toBe(true);
    expect(port).toBeGreaterThan(0);
    const res = await get(port, ca);
    expect(res.status).toBe(404);
    expect(res.san).toContain(`DNS:${service}`);
    expect(res.san).toContain(`DNS:${service}.cluster.local`);
    expect(res.san).toContain("URI:spiffe://cluster.local/ns/meshid-system/sa/meshid-operator");
  });

  it("serves a certificate from the new CA after the CA changes, on the same port", async () => {
    const { log, caChanged } = setup(configuration(webhook("pods.meshid.dev")));
    caChanged(ca);
    const { port } = (await log.next("Serving admission webhook")) as LogLine & { port: number };
    await log.next("Issued webhook serving certificate");
    caChanged(otherCa);
    await log.next("Issued webhook serving certificate", 2);
    expect((await get(port, otherCa)).status).toBe(404);
    await expect(get(port, ca)).rejects.toMatchObject({
      code: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    });
    expect(log.lines.filter((l) => l.message === "Serving admission webhook")).toHaveLength(1);
  });

  it("patches the caBundle of every webhook entry that differs from the trust bundle, and only those", async () => {
    const { kube, caChanged } = setup(
      configuration(
        webhook("a.meshid.dev", bundleOf(ca)),
        webhook("b.meshid.dev"),
        webhook("c.meshid.dev", bundleOf(otherCa)),
      ),
    );
    const patched = kube.nextPatch();
    caChanged(ca);
    await patched;
    expect(kube.patches).toEqual([
      [
        { op: "add", path: "/webhooks/1/clientConfig/caBundle", value: bundleOf(ca) },
        { op: "add", path: "/webhooks/2/clientConfig/caBundle", value: bundleOf(ca) },
      ],
    ]);
    expect(kube.cfg!.webhooks!.map((w) => w.clientConfig.caBundle)).toEqual([
      bundleOf(ca),
      bundleOf(ca),
      bundleOf(ca),
    ]);
  });

  it("patches nothing when every caBundle equals the trust bundle, and compares again a minute later", async () => {
    const { kube, clock, caChanged } = setup(
      configuration(webhook("a.meshid.dev", bundleOf(ca)), webhook("b.meshid.dev", bundleOf(ca))),
    );
    caChanged(ca);
    await flush();
    expect(kube.gets).toBe(1);
    await clock.advance(59_999);
    expect(kube.gets).toBe(1);
    await clock.advance(1);
    expect(kube.gets).toBe(2);
    expect(kube.patches).toEqual([]);
  });

  it("looks for a missing configuration again every 5 s and patches it once it exists", async () => {
    const { kube, clock, caChanged } = setup(undefined);
    caChanged(ca);
    await flush();
    expect(kube.gets).toBe(1);
    await clock.advance(4_999);
    expect(kube.gets).toBe(1);
    await clock.advance(1);
    expect(kube.gets).toBe(2);
    expect(kube.patches).toEqual([]);

    kube.cfg = configuration(webhook("pods.meshid.dev"));
    const patched = kube.nextPatch();
    await clock.advance(5_000);
    await patched;
    expect(kube.gets).toBe(3);
    expect(kube.cfg.webhooks![0]!.clientConfig.caBundle).toBe(bundleOf(ca));
  });

  it("neither serves nor looks at the configuration before the CA is known", async () => {
    const { manager, kube, clock } = setup(configuration(webhook("pods.meshid.dev")));
    await clock.advance(120_000);
    expect(kube.gets).toBe(0);
    expect(manager.serving).toBe(false);
  });

  it("stops serving and stops comparing the caBundle after stop", async () => {
    const { manager, kube, clock, log, caChanged } = setup(
      configuration(webhook("pods.meshid.dev")),
    );
    caChanged(ca);
    await log.next("Serving admission webhook");
    await manager.stop();
    expect(manager.serving).toBe(false);
    const gets = kube.gets;
    await clock.advance(120_000);
    expect(kube.gets).toBe(gets);
  });

  // stop() during the first issuance closes no server (there is none yet): the issuance must not
  // start one afterwards. The bound below waits for something that must never happen.
  it("does not serve when stopped while its first certificate is being issued", async () => {
    const { manager, log } = setup(configuration(webhook("pods.meshid.dev")));
    manager.caChanged(ca);
    await manager.stop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      log.next("Serving admission webhook"),
      new Promise((resolve) => (timer = setTimeout(resolve, 1_000))),
    ]);
    clearTimeout(timer);
    expect(manager.serving).toBe(false);
  });
});
