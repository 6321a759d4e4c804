/**
 * The webhook port as an attacker reaches it: unauthenticated, any bytes. 10,000 generated and
 * mutated AdmissionReviews (wrong types at every field, nulls, huge arrays, deep nesting, odd
 * encodings, truncated and oversized bodies) go to the real operator process; every one must get
 * an HTTP answer that is not a server error, and the process must stay up and keep serving.
 */
import type { ClientRequest } from "node:http";
import { readFileSync } from "node:fs";
import * as https from "node:https";
import { eventually } from "../support/kube";
import { startOperator, waitReady, type OperatorProcess } from "../support/operator";
import { postRaw, type RawResponse } from "../support/webhook";

jest.setTimeout(300_000);

const total = 10_000;
const inFlight = 16;

/** mulberry32 is a small seeded PRNG, so a failing case can be replayed from its seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function baseReview(i: number): Json {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: `fuzz-${i}`,
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      operation: "CREATE",
      namespace: "fuzz",
      dryRun: false,
      object: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: "web-0",
          generateName: "web-",
          labels: { app: "web" },
          annotations: { a: "b" },
        },
        spec: {
          serviceAccountName: "web",
          volumes: [
            { name: "data", emptyDir: {} },
            { name: "cfg", secret: { secretName: "web-config" } },
            { name: "p", projected: { sources: [{ secret: { name: "x" } }] } },
          ],
          initContainers: [
            { name: "init", image: "i", volumeMounts: [{ name: "data", mountPath: "/d" }] },
          ],
          containers: [
            { name: "app", image: "i", volumeMounts: [{ name: "data", mountPath: "/data" }] },
            { name: "side", image: "i" },
          ],
        },
      },
    },
  };
}

/** paths lists every path into a JSON value, the root included. */
function paths(v: Json, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) v.forEach((c, i) => out.push(...paths(c, [...at, i])));
  else if (v && typeof v === "object")
    for (const [k, c] of Object.entries(v)) out.push(...paths(c, [...at, k]));
  return out;
}

function setAt(root: Json, path: (string | number)[], value: Json | undefined): Json {
  if (path.length === 0) return value ?? null;
  let parent = root as Record<string | number, Json>;
  for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = value;
  return root;
}

const deepMarker = "__deep_nesting__";

function badValue(rand: () => number): Json | undefined {
  const pick = Math.floor(rand() * 16);
  switch (pick) {
    case 0:
      return null;
    case 1:
      return undefined; // delete the field
    case 2:
      return Math.floor(rand() * 2 ** 53) * (rand() < 0.5 ? -1 : 1);
    case 3:
      return rand() < 0.5;
    case 4:
      return [];
    case 5:
      return {};
    case 6:
      return "x".repeat(Math.floor(rand() * 300_000));
    case 7:
      return Array.from({ length: 1 + Math.floor(rand() * 20_000) }, () => ({ name: "v" }));
    case 8:
      return deepMarker;
    case 9:
      return "\u0000\ud800\uffff\u202e/../meshid-identity";
    case 10:
      return [null, null, 1, "s", {}];
    case 11:
      return { secretName: "meshid-victim", name: { nested: true } };
    case 12:
      return "meshid-identity";
    case 13:
      return { __proto__: { polluted: true }, constructor: { prototype: { x: 1 } } };
    case 14:
      return 1e308 * 10; // Infinity serialises as null
    default:
      return "meshid.dev/secret";
  }
}

/** mutate produces one malformed review body from the PRNG. */
function mutate(i: number, rand: () => number): string | Buffer {
  const kind = rand();
  let review = baseReview(i);
  const all = paths(review);
  const changes = 1 + Math.floor(rand() * 3);
  for (let c = 0; c < changes; c++) {
    const path = all[Math.floor(rand() * all.length)]!;
    try {
      review = setAt(review, path, badValue(rand));
    } catch {
      // the path vanished with an earlier change: skip it
    }
  }
  let text = JSON.stringify(review) ?? "null";
  if (text.includes(`"${deepMarker}"`)) {
    const depth = 1_000 + Math.floor(rand() * 50_000);
    text = text.replace(`"${deepMarker}"`, "[".repeat(depth) + "]".repeat(depth));
  }
  if (kind < 0.7) return text;
  const bytes = Buffer.from(text, "utf8");
  if (kind < 0.78) return bytes.subarray(0, Math.floor(rand() * bytes.length)); // truncated
  if (kind < 0.86) {
    const at = Math.floor(rand() * bytes.length);
    bytes[at] = Math.floor(rand() * 256); // a flipped byte
    return bytes;
  }
  if (kind < 0.9) return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]); // a BOM
  if (kind < 0.94) return Buffer.concat([bytes, Buffer.from([0xc3, 0x28, 0xff, 0xfe])]);
  if (kind < 0.97) return "";
  return JSON.stringify([review, review]);
}

let op: OperatorProcess;

beforeAll(async () => {
  op = await startOperator({ env: { LOG_LEVEL: "error" }, args: ["--log-level=error"] });
  await waitReady(op);
});

afterAll(async () => {
  await op?.stop();
});

describe("the webhook under malformed input", () => {
  it(`answers ${total} generated and mutated reviews, none with a server error, and stays up`, async () => {
    const seed = Number(process.env.MESHID_FUZZ_SEED ?? 20261129);
    const rand = mulberry32(seed);
    const agent = new https.Agent({ keepAlive: true, maxSockets: inFlight });
    const bodies = Array.from({ length: total }, (_, i) => mutate(i, rand));
    // A few bodies over the size limit, which must be cut off with 413.
    for (let i = 0; i < 4; i++) bodies[i * 997] = "[" + " ".repeat(4 * 1024 * 1024) + "]";
    const results: RawResponse[] = new Array<RawResponse>(total);
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < total) {
          const i = next++;
          results[i] = await postRaw(op.webhookPort, bodies[i]!, { agent });
        }
      }),
    );
    agent.destroy();

    const byStatus = new Map<number, number>();
    for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    const unanswered = results.flatMap((r, i) => (r.status === 0 ? [`${i}: ${r.error}`] : []));
    const serverErrors = results.flatMap((r, i) => (r.status >= 500 ? [`${i}: ${r.body}`] : []));
    expect(unanswered).toEqual([]);
    expect(serverErrors).toEqual([]);
    expect([...byStatus.keys()].sort()).toEqual(expect.arrayContaining([200, 400, 413]));
    for (const [i, r] of results.entries()) {
      if (r.status !== 200) continue;
      // Every 200 answers the review that was sent, under the uid it carried.
      const sent = JSON.parse(bodies[i]!.toString()) as { request: { uid: string } };
      const answer = JSON.parse(r.body) as { kind: string; response: { uid: string } };
      expect(answer.kind).toBe("AdmissionReview");
      expect(answer.response.uid).toBe(sent.request.uid);
    }
    expect(op.child.exitCode).toBeNull();
    expect(await op.readyz()).toBe(200);
    // Still serving well-formed reviews after all of it.
    const ok = await postRaw(op.webhookPort, JSON.stringify(baseReview(total)));
    expect(ok.status).toBe(200);
  });

  it.each([
    ["spec.volumes is an object", { volumes: {} }],
    ["containers holds a null", { containers: [null] }],
  ])("answers the reported crash (%s) with 400", async (_n, spec) => {
    const review = baseReview(1) as { request: { object: { spec: Record<string, unknown> } } };
    Object.assign(review.request.object.spec, spec);
    const r = await postRaw(op.webhookPort, JSON.stringify(review));
    expect(r.status).toBe(400);
    expect(op.child.exitCode).toBeNull();
  });

  it("answers a pod with a mount path of 150,000 slashes with 400 and keeps serving", async () => {
    const review = baseReview(2) as { request: { object: { spec: { containers: unknown[] } } } };
    review.request.object.spec.containers = [
      {
        name: "a",
        image: "i",
        volumeMounts: [{ name: "d", mountPath: `${"/".repeat(150_000)}a` }],
      },
    ];
    const r = await postRaw(op.webhookPort, JSON.stringify(review));
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/mountPath is longer than 4096/);
    expect(await op.readyz()).toBe(200);
  });

  it("holds at most a bounded amount of unfinished bodies, refusing the rest with 503", async () => {
    const rss = () => {
      const status = readFileSync(`/proc/${op.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
    };
    const before = rss();
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const held: ClientRequest[] = [];
    const answers: Promise<number>[] = [];
    for (let i = 0; i < 60; i++) {
      const req = https.request({
        host: "127.0.0.1",
        port: op.webhookPort,
        path: "/mutate-pods",
        method: "POST",
        rejectUnauthorized: false,
        headers: { "Content-Length": String(4 * 1024 * 1024) },
      });
      answers.push(
        new Promise((resolve) => {
          req.on("response", (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on("error", () => resolve(0));
        }),
      );
      req.write("[");
      for (let j = 0; j < 3; j++) req.write(chunk);
      held.push(req);
    }
    // Wait until the refusals settle (no new 503 for two polls in a row): the server has then read
    // all it will read while the rest are held; measure while they are held.
    let last = -1;
    let steady = 0;
    const refused = await eventually(
      async () => {
        const settled = await Promise.all(
          answers.map((a) =>
            Promise.race([a, new Promise<number>((r) => setTimeout(() => r(-1), 50))]),
          ),
        );
        const n = settled.filter((s) => s === 503).length;
        steady = n === last ? steady + 1 : 0;
        last = n;
        // 60 bodies of 3 MiB exceed the 24 MiB budget many times over: until the server has read
        // enough to refuse one, it has not read enough to measure either.
        if (n === 0 || (steady < 2 && n < held.length)) throw new Error(`${n} refused so far`);
        return n;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const during = rss();
    for (const req of held) req.destroy();
    expect(refused).toBeGreaterThan(0);
    expect(during - before).toBeLessThan(120);
    expect(op.child.exitCode).toBeNull();
    expect(await op.readyz()).toBe(200);
    expect((await postRaw(op.webhookPort, JSON.stringify(baseReview(3)))).status).toBe(200);
  });

  it("cuts off a client that never finishes its request", async () => {
    const started = Date.now();
    const r = await new Promise<string>((resolve) => {
      const req = https.request({
        host: "127.0.0.1",
        port: op.webhookPort,
        path: "/mutate-pods",
        method: "POST",
        rejectUnauthorized: false,
        headers: { "Content-Length": "1000" },
      });
      req.on("response", (res) => resolve(`status ${res.statusCode}`));
      req.on("error", (err) => resolve(`closed: ${err.message}`));
      req.write("{");
    });
    expect(r).toMatch(/closed|status 408/);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await op.readyz()).toBe(200);
  });
});
