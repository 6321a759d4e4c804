/**
 * Runs the gopher-lua runner of Argo CD health checks (hack/argocd-lua, Go), built on first use
 * and cached by hack/go-tool.ts.
 */
import { spawnSync } from "node:child_process";
import { buildGoTool } from "../go-tool";

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

/** luaRunnerBinary returns the runner's path, building it first when its sources changed. */
export function luaRunnerBinary(): string {
  return buildGoTool(__dirname);
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
