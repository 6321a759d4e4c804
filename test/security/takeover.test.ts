/**
 * An attacker-tenant with the right to create and patch pods in the victim's namespace tries to
 * take over another pod's identity Secret: by declaring meshid's volume or annotation at creation,
 * by mounting the Secret under another name, by re-annotating a pod later, by naming a pod after a
 * generated Secret, and (where the webhook does not run) by declaring the volume in an unlabelled
 * namespace. Each time the victim's Secret must stay bound to the victim with its own identity,
 * before and after the attacker's pod is deleted, and the operator must stay up.
 */
import type * as k8s from "@kubernetes/client-node";
import { createNamespace, eventually, kubectl, testKubeConfig } from "../support/kube";
import { core, createIdentity, createPod, opensslVerify, secretText } from "../support/meshid";
import { startWebhookOperator, type WebhookOperator } from "../support/webhook";

jest.setTimeout(120_000);

const kc = testKubeConfig();
let hook: WebhookOperator;
let injected: string;
let plain: string;
let victims = 0;

beforeAll(async () => {
  injected = await createNamespace(kc, "takeover-inj", { "meshid.dev/injection": "enabled" });
  plain = await createNamespace(kc, "takeover-plain");
  hook = await startWebhookOperator([injected, plain]);
  for (const ns of [injected, plain])
    await createIdentity(ns, "web", { selector: { matchLabels: { app: "web" } } });
});

afterAll(async () => {
  await hook?.stop();
});

/** Identity is what binds a Secret to a pod and what it certifies. */
interface Identity {
  uid: string;
  owner: string | undefined;
  serial: string | undefined;
  uri: string;
}

async function identityOf(ns: string, secretName: string): Promise<Identity> {
  const { body } = await core.readNamespacedSecret(secretName, ns);
  const text = opensslVerify(body);
  return {
    uid: body.metadata?.uid ?? "",
    owner: body.metadata?.ownerReferences?.[0]?.uid,
    serial: body.metadata?.annotations?.["meshid.dev/serial"],
    uri: /URI:(\S+)/.exec(text)?.[1] ?? "",
  };
}

/** victim creates a pod and waits until its identity Secret is issued. */
async function victim(ns: string, name: string): Promise<{ pod: k8s.V1Pod; secret: string }> {
  const pod = await eventually(() => createPod(ns, name, { app: "web" }, "victim"), {
    timeoutMs: 30_000,
  });
  const secret =
    pod.spec?.volumes?.find((v) => v.name === "meshid-identity")?.secret?.secretName ??
    `meshid-${name}`;
  await eventually(() => core.readNamespacedSecret(secret, ns), { timeoutMs: 60_000 });
  return { pod, secret };
}

/** attempt creates a pod and returns the API server's refusal message, or "" when admitted. */
async function attempt(ns: string, pod: k8s.V1Pod): Promise<string> {
  try {
    await core.createNamespacedPod(ns, pod);
    return "";
  } catch (err) {
    return (err as { body?: { message?: string } }).body?.message ?? String(err);
  }
}

const thiefSpec = (volumes: k8s.V1Volume[] = []): k8s.V1PodSpec => ({
  serviceAccountName: "attacker",
  containers: [{ name: "app", image: "meshid-test-app" }],
  ...(volumes.length ? { volumes } : {}),
});

/** settled waits until the operator has reconciled `pod` (with `message`, if given) since then. */
async function settled(ns: string, pod: string, since: number, message?: string): Promise<void> {
  await eventually(
    () => {
      const seen = hook.op
        .logs()
        .filter(
          (l) =>
            l.namespace === ns &&
            l.name === pod &&
            Date.parse(String(l.timestamp)) >= since &&
            (message === undefined || l.message === message),
        );
      if (seen.length === 0) throw new Error(`no reconcile of ${ns}/${pod} logged yet`);
    },
    { timeoutMs: 30_000 },
  );
}

describe("in a namespace with injection enabled", () => {
  it.each<[string, (secret: string) => k8s.V1Pod]>([
    [
      "declares meshid's volume pointing at the victim's Secret, with the annotation",
      (secret) => ({
        metadata: {
          name: "thief-1",
          labels: { app: "web" },
          annotations: { "meshid.dev/secret": secret },
        },
        spec: thiefSpec([{ name: "meshid-identity", secret: { secretName: secret } }]),
      }),
    ],
    [
      "mounts the victim's Secret under a volume of its own name",
      (secret) => ({
        metadata: { name: "thief-2", labels: { app: "web" } },
        spec: thiefSpec([{ name: "stolen", secret: { secretName: secret } }]),
      }),
    ],
    [
      "mounts the victim's Secret through a projected volume, unselected",
      (secret) => ({
        metadata: { name: "thief-3", labels: { app: "other" } },
        spec: thiefSpec([{ name: "p", projected: { sources: [{ secret: { name: secret } }] } }]),
      }),
    ],
    [
      "reads the victim's Secret into its environment",
      (secret) => ({
        metadata: { name: "thief-5", labels: { app: "other" } },
        spec: {
          ...thiefSpec(),
          containers: [
            { name: "app", image: "meshid-test-app", envFrom: [{ secretRef: { name: secret } }] },
          ],
        },
      }),
    ],
    [
      "hands the victim's Secret to a CSI driver",
      (secret) => ({
        metadata: { name: "thief-6", labels: { app: "other" } },
        spec: thiefSpec([
          { name: "c", csi: { driver: "secrets.example", nodePublishSecretRef: { name: secret } } },
        ]),
      }),
    ],
    [
      "sets only the annotation naming the victim's Secret",
      (secret) => ({
        metadata: {
          name: "thief-4",
          labels: { app: "web" },
          annotations: { "meshid.dev/secret": secret },
        },
        spec: thiefSpec(),
      }),
    ],
  ])("refuses a pod that %s, and the victim keeps its identity", async (_n, thief) => {
    const v = await victim(injected, `victim-${++victims}`);
    const before = await identityOf(injected, v.secret);
    const message = await attempt(injected, thief(v.secret));
    expect(message).toMatch(
      /admission webhook "pods.meshid.dev" denied the request: meshid refused the pod: /,
    );
    expect(await identityOf(injected, v.secret)).toEqual(before);
    expect(before.owner).toBe(v.pod.metadata?.uid);
    expect(before.uri).toBe(`spiffe://cluster.local/ns/${injected}/sa/victim`);
  });

  it("ignores an annotation rewritten on a running pod to name another pod's Secret", async () => {
    const v = await victim(injected, "victim-annotate");
    const before = await identityOf(injected, v.secret);
    await createPod(injected, "thief-annotate", { app: "web" }, "attacker");
    await eventually(() => core.readNamespacedSecret("meshid-thief-annotate", injected), {
      timeoutMs: 60_000,
    });
    const since = Date.now();
    await kubectl([
      "annotate",
      "pod",
      "thief-annotate",
      "-n",
      injected,
      "--overwrite",
      `meshid.dev/secret=${v.secret}`,
    ]);
    await settled(injected, "thief-annotate", since);
    expect(await identityOf(injected, v.secret)).toEqual(before);
    const own = await identityOf(injected, "meshid-thief-annotate");
    expect(own.uri).toBe(`spiffe://cluster.local/ns/${injected}/sa/attacker`);

    const deleted = Date.now();
    await core.deleteNamespacedPod("thief-annotate", injected);
    await settled(injected, "thief-annotate", deleted, "Pod is gone or finished");
    expect(await identityOf(injected, v.secret)).toEqual(before);
  });

  it("refuses an ephemeral container (kubectl debug) that reads another pod's Secret", async () => {
    const v = await victim(injected, "victim-debug");
    const before = await identityOf(injected, v.secret);
    const { body: thief } = await core.createNamespacedPod(injected, {
      metadata: { name: "thief-debug", labels: { app: "other" } },
      spec: thiefSpec(),
    });
    thief.spec!.ephemeralContainers = [
      { name: "dbg", image: "meshid-test-app", envFrom: [{ secretRef: { name: v.secret } }] },
    ];
    const message = await core
      .replaceNamespacedPodEphemeralcontainers("thief-debug", injected, thief)
      .then(() => "")
      .catch(
        (err: { body?: { message?: string } }) => err.body?.message ?? "refused without a message",
      );
    expect(message).toMatch(
      /denied the request: meshid refused the pod: container "dbg" reads Secret/,
    );
    expect(await identityOf(injected, v.secret)).toEqual(before);
  });

  it("refuses an ephemeral container that mounts the pod's identity volume", async () => {
    const v = await victim(injected, "victim-mount");
    const { body: pod } = await core.readNamespacedPod("victim-mount", injected);
    pod.spec!.ephemeralContainers = [
      {
        name: "dbg",
        image: "meshid-test-app",
        volumeMounts: [{ name: "meshid-identity", mountPath: "/steal" }],
      },
    ];
    const message = await core
      .replaceNamespacedPodEphemeralcontainers("victim-mount", injected, pod)
      .then(() => "")
      .catch(
        (err: { body?: { message?: string } }) => err.body?.message ?? "refused without a message",
      );
    expect(message).toMatch(
      /meshid refused the pod: ephemeral container "dbg" mounts volume "meshid-identity"/,
    );
    expect(v.secret).toBe("meshid-victim-mount");
  });

  it("refuses a selected pod whose name is too long to get an unshortened Secret name", async () => {
    // A shortened Secret name would itself be a legal meshid-<pod> name another pod could take.
    const longest = `w-${"a".repeat(244)}`;
    const ok = await eventually(() => createPod(injected, longest, { app: "web" }, "victim"));
    expect(ok.spec?.volumes?.find((v) => v.name === "meshid-identity")?.secret?.secretName).toBe(
      `meshid-${longest}`,
    );
    const message = await attempt(injected, {
      metadata: { name: `w-${"a".repeat(245)}`, labels: { app: "web" } },
      spec: thiefSpec(),
    });
    expect(message).toMatch(
      /meshid refused the pod: its name is 247 characters long; .* at most 246/,
    );
  });

  it("gives a pod named after a generated Secret a Secret of its own", async () => {
    const { body: generated } = await core.createNamespacedPod(injected, {
      metadata: { generateName: "gen-", labels: { app: "web" } },
      spec: { serviceAccountName: "victim", containers: [{ name: "c", image: "meshid-test-app" }] },
    });
    const secret = generated.spec?.volumes?.find((v) => v.name === "meshid-identity")?.secret
      ?.secretName;
    expect(secret).toMatch(/^meshid\.gen-[a-z0-9]{10}$/);
    await eventually(() => core.readNamespacedSecret(secret!, injected), { timeoutMs: 60_000 });
    const before = await identityOf(injected, secret!);

    // Every name a pod could take to aim at the generated Secret.
    const suffix = secret!.slice("meshid.".length);
    const named = await eventually(() => createPod(injected, suffix, { app: "web" }, "attacker"));
    expect(named.spec?.volumes?.find((v) => v.name === "meshid-identity")?.secret?.secretName).toBe(
      `meshid-${suffix}`,
    );
    expect(
      await attempt(injected, { metadata: { name: `.${suffix}` }, spec: thiefSpec() }),
    ).toMatch(/Invalid value/);
    await eventually(() => core.readNamespacedSecret(`meshid-${suffix}`, injected), {
      timeoutMs: 60_000,
    });
    expect(await identityOf(injected, secret!)).toEqual(before);
    expect(before.owner).toBe(generated.metadata?.uid);
  });
});

describe("in a namespace the webhook does not cover", () => {
  it("gives a pod that declares meshid's volume for another pod's Secret a SecretConflict, and deleting it removes nothing", async () => {
    const v = await victim(plain, "victim-plain");
    const before = await identityOf(plain, v.secret);
    const thief = await core.createNamespacedPod(plain, {
      metadata: { name: "thief-plain", labels: { app: "web" } },
      spec: thiefSpec([{ name: "meshid-identity", secret: { secretName: v.secret } }]),
    });
    await eventually(
      async () => {
        const { body } = await core.listNamespacedEvent(plain);
        const conflict = body.items.find(
          (e) => e.reason === "SecretConflict" && e.involvedObject.name === "thief-plain",
        );
        if (!conflict) throw new Error("no SecretConflict Event yet");
        expect(conflict.message).toMatch(/holds the identity of another running pod/);
      },
      { timeoutMs: 60_000 },
    );
    expect(await identityOf(plain, v.secret)).toEqual(before);

    const deleted = Date.now();
    await core.deleteNamespacedPod("thief-plain", plain);
    await eventually(async () => {
      const { body } = await core.listNamespacedPod(plain);
      if (body.items.some((p) => p.metadata?.uid === thief.body.metadata?.uid))
        throw new Error("thief still there");
    });
    await settled(plain, "thief-plain", deleted, "Pod is gone or finished");
    const after = await identityOf(plain, v.secret);
    expect(after).toEqual(before);
    expect(secretText((await core.readNamespacedSecret(v.secret, plain)).body, "tls.key")).toMatch(
      /PRIVATE KEY/,
    );
    expect(hook.op.child.exitCode).toBeNull();
  });
});
