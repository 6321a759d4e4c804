/**
 * Builds the gopher-lua runner of Argo CD health checks (hack/argocd-lua, Go) with the machine's Go
 * and runs it. The binary is cached outside the work tree under a hash of its sources, so a change
 * to them rebuilds it and an unchanged tree reuses it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const sourceDir = __dirname;

/** HealthStatus is what a health script returns to Argo CD. */
export interface HealthStatus {
  status: string;
  message?: string;
}

/** CaseResult is the runner's verdict on one case of a health_test.yaml, under one library set. */
export interface CaseResult {
  name: string;
  libs: "argocd-cm" | "all";
  expected: HealthStatus;
  actual?: HealthStatus;
  error?: string;
  pass: boolean;
}

/** RunnerOutput is what one run of the runner printed and how it exited. */
export interface RunnerOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** LuaRunnerBuildError says why the runner could not be built. */
export class LuaRunnerBuildError extends Error {
  readonly code = "LuaRunnerBuildFailed";
  constructor(message: string) {
    super(message);
    this.name = "LuaRunnerBuildError";
  }
}

function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "meshid", "argocd-lua");
}

function sourceHash(): string {
  const hash = createHash("sha256");
  for (const f of readdirSync(sourceDir)
    .filter((f) => /\.go$|^go\.(mod|sum)$/.test(f))
    .sort())
    hash.update(f).update(readFileSync(join(sourceDir, f)));
  return hash.digest("hex").slice(0, 16);
}

/** luaRunnerBinary returns the runner's path, building it first when its sources changed. */
export function luaRunnerBinary(): string {
  const bin = join(cacheDir(), `argocd-lua-${sourceHash()}`);
  if (existsSync(bin)) return bin;
  mkdirSync(cacheDir(), { recursive: true });
  const partial = `${bin}.partial-${process.pid}`;
  try {
    execFileSync("go", ["build", "-trimpath", "-o", partial, "."], {
      cwd: sourceDir,
      env: { ...process.env, GOTOOLCHAIN: "local", CGO_ENABLED: "0", GOFLAGS: "-mod=mod" },
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new LuaRunnerBuildError(
      `could not build hack/argocd-lua with Go (Go >= 1.24 is a prerequisite, see README.md): ${
        stderr || (err as Error).message
      }`,
    );
  }
  renameSync(partial, bin);
  return bin;
}

/** runLuaRunner runs the runner with `args`, `input` on its stdin. */
export function runLuaRunner(args: string[], input = ""): RunnerOutput {
  const r = spawnSync(luaRunnerBinary(), args, { input, encoding: "utf8", timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** runHealthTests runs every health_test.yaml case under `dir` (a resource_customizations tree). */
export function runHealthTests(dir: string): RunnerOutput & { results: CaseResult[] } {
  const out = runLuaRunner(["test", dir]);
  const results = out.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as CaseResult);
  return { ...out, results };
}

/** scriptGlobals lists the globals a Lua script reads and assigns, from its gopher-lua bytecode. */
export function scriptGlobals(script: string): { reads: string[]; writes: string[] } {
  const out = runLuaRunner(["globals", script]);
  if (out.code !== 0) throw new Error(`argocd-lua globals failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as { reads: string[]; writes: string[] };
}

/** runHealthCheck runs a health script on one object, with argocd-cm's libraries, as Argo CD does. */
export function runHealthCheck(obj: unknown, script: string): HealthStatus {
  const out = runLuaRunner(["run", script], JSON.stringify(obj));
  if (out.code !== 0) throw new Error(`argocd-lua run failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as HealthStatus;
}
