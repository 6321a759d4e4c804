/**
 * pki-bench measures P-256 leaf issuance through meshid's own code path (generateKey + issueLeaf)
 * against node:crypto doing the bare minimum per leaf (generate a P-256 key pair, make one ECDSA
 * signature), on the same machine in the same run, and prints both with their ratio.
 *
 *   npx tsx hack/bench/pki-bench.ts [--seconds 5] [--concurrency 1,4,8] [--json out.json]
 *
 * runPkiBench is exported so a larger benchmark can run it and collect its result.
 */
import {
  generateKeyPair,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from "node:crypto";
import { writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { promisify } from "node:util";
import {
  bootstrapCa,
  generateKey,
  inspectCertificate,
  issueLeaf,
  loadSigningCa,
  type SigningCa,
} from "../../operator/pki";

/** PkiBenchOptions: how long each case runs, at which concurrencies, and where to log. */
export interface PkiBenchOptions {
  seconds: number;
  concurrency: number[];
  /** log receives progress lines; defaults to stderr so stdout stays the table. */
  log?: (line: string) => void;
}

/** PkiBenchRow is one measured case. */
export interface PkiBenchRow {
  path: "meshid" | "meshid-pod-names" | "node-raw" | "node-raw-sync";
  description: string;
  concurrency: number;
  leaves: number;
  seconds: number;
  perSecond: number;
  /** ratio is perSecond / the node-raw rate at the same concurrency (meshid rows only). */
  ratio?: number;
}

/** PkiBenchResult is everything a run measured, with the machine it ran on. */
export interface PkiBenchResult {
  startedAt: string;
  node: string;
  cpu: string;
  cpus: number;
  options: { seconds: number; concurrency: number[] };
  rows: PkiBenchRow[];
  /** best is the best meshid rate, the best raw rate, and their ratio. */
  best: { meshidPerSecond: number; rawPerSecond: number; ratio: number };
}

const generateKeyPairAsync = promisify(generateKeyPair);
const spiffeId = "spiffe://cluster.local/ns/bench/sa/bench";

/** measure runs `once` in `concurrency` loops for `seconds` after a short warm-up. */
async function measure(
  seconds: number,
  concurrency: number,
  once: () => Promise<void>,
): Promise<{ leaves: number; seconds: number }> {
  const warmUntil = performance.now() + Math.min(500, seconds * 100);
  while (performance.now() < warmUntil) await once();
  let leaves = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await once();
      leaves++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { leaves, seconds: (performance.now() - start) / 1000 };
}

let leafCount = 0;

/**
 * meshidLeaf issues as the pod reconcile does, with one DNS name for the whole workload, or with
 * one per pod (`podNames`, as a MeshIdentity naming $(POD_NAME) has): then the subjectAltName is
 * encoded for each leaf.
 */
async function meshidLeaf(ca: SigningCa, podNames = false): Promise<string> {
  const key = await generateKey({ algorithm: "ECDSA", size: 256 });
  const leaf = await issueLeaf(ca, {
    publicKeyPem: key.publicKeyPem,
    spiffeId,
    dnsNames: [podNames ? `bench-${leafCount++}.bench.bench.svc` : "bench.bench.svc"],
    ipAddresses: [],
    usages: ["server auth", "client auth"],
    durationMs: 24 * 60 * 60 * 1000,
    now: new Date(),
  });
  return leaf.certChainPem;
}

/** rawLeaf is the floor of any issuer: one P-256 key pair and one ECDSA signature per leaf. */
async function rawLeaf(caKey: KeyObject, tbs: Buffer): Promise<void> {
  await generateKeyPairAsync("ec", { namedCurve: "P-256" });
  sign("sha256", tbs, caKey);
}

/** runPkiBench runs every case and returns the measurements; it prints nothing to stdout. */
export async function runPkiBench(opts: PkiBenchOptions): Promise<PkiBenchResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const startedAt = new Date().toISOString();
  log("Bootstrapping a CA (P-384 root, P-256 intermediate)");
  const boot = await bootstrapCa({
    trustDomain: "cluster.local",
    clusterDomain: "cluster.local",
    dnsSuffixes: ["svc"],
    now: new Date(),
  });
  const ca = await loadSigningCa({
    ...boot.intermediate,
    rootsPem: boot.root.certPem,
    now: new Date(),
  });
  const sample = inspectCertificate(await meshidLeaf(ca));
  if (!sample.uris.includes(spiffeId)) throw new Error("the benchmark's leaf lacks its SPIFFE ID");

  const caKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  const tbs = randomBytes(450); // about the size of a leaf's TBSCertificate
  const rows: PkiBenchRow[] = [];
  const run = async (
    row: Omit<PkiBenchRow, "leaves" | "seconds" | "perSecond">,
    once: () => Promise<void>,
  ) => {
    log(`Measuring ${row.path} at concurrency ${row.concurrency} for ${opts.seconds}s`);
    const { leaves, seconds } = await measure(opts.seconds, row.concurrency, once);
    const result = { ...row, leaves, seconds, perSecond: leaves / seconds };
    log(`  ${result.perSecond.toFixed(0)} leaves/s`);
    rows.push(result);
  };

  await run(
    {
      path: "node-raw-sync",
      description: "generateKeyPairSync + sign, event loop only",
      concurrency: 1,
    },
    () => {
      generateKeyPairSync("ec", { namedCurve: "P-256" });
      sign("sha256", tbs, caKey);
      return Promise.resolve();
    },
  );
  for (const concurrency of opts.concurrency) {
    await run({ path: "node-raw", description: "async generateKeyPair + sign", concurrency }, () =>
      rawLeaf(caKey, tbs),
    );
    await run(
      { path: "meshid", description: "generateKey + issueLeaf (pkijs)", concurrency },
      async () => void (await meshidLeaf(ca)),
    );
  }
  const podNamesAt = opts.concurrency.includes(4) ? 4 : (opts.concurrency[0] ?? 1);
  await run(
    {
      path: "meshid-pod-names",
      description: "the same, a DNS name per pod ($(POD_NAME))",
      concurrency: podNamesAt,
    },
    async () => void (await meshidLeaf(ca, true)),
  );
  for (const row of rows) {
    const raw = rows.find((r) => r.path === "node-raw" && r.concurrency === row.concurrency);
    if (row.path.startsWith("meshid") && raw) row.ratio = row.perSecond / raw.perSecond;
  }
  const bestOf = (path: PkiBenchRow["path"]) =>
    Math.max(0, ...rows.filter((r) => r.path === path).map((r) => r.perSecond));
  const meshidPerSecond = bestOf("meshid");
  const rawPerSecond = Math.max(bestOf("node-raw"), bestOf("node-raw-sync"));
  return {
    startedAt,
    node: process.version,
    cpu: cpus()[0]?.model ?? "unknown",
    cpus: cpus().length,
    options: { seconds: opts.seconds, concurrency: opts.concurrency },
    rows,
    best: { meshidPerSecond, rawPerSecond, ratio: meshidPerSecond / rawPerSecond },
  };
}

/** formatPkiBench renders a result as a plain-text table. */
export function formatPkiBench(result: PkiBenchResult): string {
  const header = ["path", "what each leaf costs", "conc.", "leaves", "leaves/s", "vs raw"];
  const body = result.rows.map((r) => [
    r.path,
    r.description,
    String(r.concurrency),
    String(r.leaves),
    r.perSecond.toFixed(0),
    r.ratio === undefined ? "" : `${(r.ratio * 100).toFixed(1)}%`,
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  const { best } = result;
  return [
    `P-256 leaf issuance, ${result.node}, ${result.cpus} x ${result.cpu}`,
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...body.map(line),
    "",
    `best meshid ${best.meshidPerSecond.toFixed(0)} leaves/s vs best raw node:crypto ` +
      `${best.rawPerSecond.toFixed(0)} leaves/s: ${(best.ratio * 100).toFixed(1)}% (1/${(1 / best.ratio).toFixed(1)})`,
  ].join("\n");
}

function parseArgs(argv: string[]): PkiBenchOptions & { json?: string } {
  const opts: PkiBenchOptions & { json?: string } = { seconds: 5, concurrency: [1, 4, 8] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === "--help" || flag === "-h") {
      process.stdout.write(
        "usage: pki-bench.ts [--seconds N] [--concurrency 1,4,8] [--json FILE]\n",
      );
      process.exit(0);
    }
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--seconds") opts.seconds = Number(value);
    else if (flag === "--concurrency") opts.concurrency = value.split(",").map(Number);
    else if (flag === "--json") opts.json = value;
    else throw new Error(`unknown flag ${flag}; see --help`);
    i++;
  }
  if (!(opts.seconds > 0)) throw new Error("--seconds must be a positive number");
  if (!opts.concurrency.every((c) => Number.isInteger(c) && c > 0)) {
    throw new Error("--concurrency must be positive integers, e.g. 1,4,8");
  }
  return opts;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const result = await runPkiBench(opts);
  process.stdout.write(`${formatPkiBench(result)}\n`);
  if (opts.json) {
    await writeFile(opts.json, `${JSON.stringify(result, null, 2)}\n`);
    process.stderr.write(`Wrote ${opts.json}\n`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
