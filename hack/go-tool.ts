/**
 * Builds the small Go programs under hack/ with the machine's Go (a README prerequisite) and caches
 * each binary outside the work tree, under a hash of its sources: a change to them rebuilds it, an
 * unchanged tree reuses it.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";

/** GoBuildError says why a Go program under hack/ could not be built. */
export class GoBuildError extends Error {
  readonly code = "GoBuildFailed";
  constructor(message: string) {
    super(message);
    this.name = "GoBuildError";
  }
}

/** goCacheDir is where built tools are kept: $XDG_CACHE_HOME/meshid, else ~/.cache/meshid. */
export function goCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "meshid");
}

/** goEnv is the environment of every Go build here: the machine's toolchain, no cgo. */
export const goEnv = { GOTOOLCHAIN: "local", CGO_ENABLED: "0", GOFLAGS: "-mod=mod" };

function sourceHash(dir: string): string {
  const hash = createHash("sha256");
  for (const f of readdirSync(dir)
    .filter((f) => /\.go$|^go\.(mod|sum)$/.test(f))
    .sort())
    hash.update(f).update(readFileSync(join(dir, f)));
  return hash.digest("hex").slice(0, 16);
}

/**
 * buildGoTool returns the binary of a main package of the Go module in `dir` (the module's own, or
 * a `tool` of its go.mod such as promtool), building it when needed.
 */
export function buildGoTool(dir: string, pkg = ".", name = basename(dir)): string {
  const out = join(goCacheDir(), name);
  const bin = join(out, `${name}-${sourceHash(dir)}`);
  if (existsSync(bin)) return bin;
  mkdirSync(out, { recursive: true });
  const partial = `${bin}.partial-${process.pid}`;
  try {
    execFileSync("go", ["build", "-trimpath", "-o", partial, pkg], {
      cwd: dir,
      env: { ...process.env, ...goEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new GoBuildError(
      `could not build ${pkg} in ${dir} with Go (Go >= 1.24 is a prerequisite, see README.md): ${
        stderr || (err as Error).message
      }`,
    );
  }
  renameSync(partial, bin);
  return bin;
}
