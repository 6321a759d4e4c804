/**
 * Runs an Argo CD health check with a real Lua 5.1 interpreter (Argo CD embeds gopher-lua, which
 * follows Lua 5.1): the object is handed to the script as the global `obj`, as Argo CD does.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

/** luaBinary is the interpreter; .ci/run installs it (Debian package lua5.1). */
export const luaBinary = "lua5.1";

/** luaCompiler lists a script's bytecode (same package), e.g. to see which globals it uses. */
export const luaCompiler = "luac5.1";

/** healthScript is the MeshIdentity health check shipped for Argo CD. */
export const healthScript = join(__dirname, "..", "..", "manifests", "argocd", "health.lua");

const harness = join(__dirname, "argocd-health-harness.lua");

/** HealthStatus is what an Argo CD health script returns. */
export interface HealthStatus {
  status: string;
  message: string;
}

/** requireLua fails with instructions when the interpreter is missing, instead of skipping. */
export function requireLua(): void {
  for (const [bin, args] of [
    [luaBinary, ["-v"]],
    [luaCompiler, ["-v"]],
  ] as const) {
    const r = spawnSync(bin, args, { encoding: "utf8" });
    if (r.error)
      throw new Error(
        `${bin} is needed to test the Argo CD health check (${r.error.message}); ` +
          "install it with: apt-get install -y lua5.1 (.ci/run does)",
      );
  }
}

function luaString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(byte);
    out += byte >= 0x20 && byte < 0x7f && c !== '"' && c !== "\\" ? c : `\\${byte}`;
  }
  return `${out}"`;
}

/** toLua renders a JSON value as a Lua table constructor (arrays 1-based, as Argo CD gives them). */
export function toLua(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (typeof value === "string") return luaString(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(", ")}}`;
  if (typeof value === "object") {
    const fields = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `[${luaString(k)}] = ${toLua(v)}`);
    return `{${fields.join(", ")}}`;
  }
  throw new Error(`cannot render ${typeof value} as Lua`);
}

/** runHealthCheck runs `script` on `obj` and returns the status and message it reports. */
export function runHealthCheck(obj: unknown, script: string = healthScript): HealthStatus {
  const r = spawnSync(luaBinary, [harness, script], {
    input: `return ${toLua(obj)}\n`,
    encoding: "utf8",
    timeout: 10_000,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${luaBinary} exited with ${r.status}: ${r.stderr}`);
  const [status = "", message = ""] = r.stdout.split("\n");
  return { status, message };
}
