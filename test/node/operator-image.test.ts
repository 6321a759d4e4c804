/**
 * The operator image built offline (hack/images/build.sh) is the image the Dockerfile describes:
 * same entrypoint, user, working directory, environment and ports, the same files under /app
 * (and nothing else there), all owned by root. Docker cannot run on these machines, so the
 * Dockerfile's final stage is read as text and compared with the archive's config and layer.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildImages } from "../../hack/controlplane/testbin";

const repoRoot = join(__dirname, "..", "..");

interface FinalStage {
  workdir: string;
  user: string;
  entrypoint: string[];
  env: string[];
  ports: string[];
  copies: string[];
}

/** finalStage reads the instructions of the Dockerfile's last stage. */
function finalStage(dockerfile: string): FinalStage {
  const lines = dockerfile
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const last = lines.map((l) => l.startsWith("FROM ")).lastIndexOf(true);
  const stage: FinalStage = {
    workdir: "/",
    user: "",
    entrypoint: [],
    env: [],
    ports: [],
    copies: [],
  };
  for (const line of lines.slice(last + 1)) {
    const [op, ...rest] = line.split(/\s+/);
    const arg = rest.join(" ");
    if (op === "WORKDIR") stage.workdir = arg;
    if (op === "USER") stage.user = arg;
    if (op === "ENTRYPOINT") stage.entrypoint = JSON.parse(arg) as string[];
    if (op === "ENV") stage.env.push(arg.replace(/\s+/, "="));
    if (op === "EXPOSE") stage.ports.push(...rest.map((p) => `${p}/tcp`));
    if (op === "COPY") {
      // COPY [--from=stage] SRC DEST: a DEST ending in "/" receives SRC under its own name.
      const src = rest[rest.length - 2]!;
      let dest = rest[rest.length - 1]!;
      if (dest.endsWith("/")) dest += src.split("/").pop()!;
      stage.copies.push(dest.replace(/^\.\//, ""));
    }
  }
  return stage;
}

/** readArchive returns a docker archive's image config and its single layer's listing. */
function readArchive(archive: string): { config: Record<string, unknown>; files: string[] } {
  const tar = (...args: string[]) =>
    execFileSync("tar", args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const manifest = JSON.parse(tar("-xOf", archive, "manifest.json")) as {
    Config: string;
    Layers: string[];
  }[];
  const config = JSON.parse(tar("-xOf", archive, manifest[0]!.Config)) as Record<string, unknown>;
  expect(manifest[0]!.Layers).toHaveLength(1);
  const layer = execFileSync(
    "bash",
    [
      "-c",
      `tar -xOf "$1" "$2" | tar -tvzf - --numeric-owner`,
      "-",
      archive,
      manifest[0]!.Layers[0]!,
    ],
    { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 },
  );
  return { config, files: layer.split("\n").filter(Boolean) };
}

describe("the offline operator image", () => {
  const stage = finalStage(readFileSync(join(repoRoot, "Dockerfile"), "utf8"));
  const [archive] = buildImages(["operator"]);
  const { config, files } = readArchive(archive!);
  const c = config.config as {
    User: string;
    WorkingDir: string;
    Entrypoint: string[];
    Env: string[];
    ExposedPorts: Record<string, unknown>;
  };
  // `tar -tv` lines: mode owner/group size date time path
  const entries = files.map((l) => {
    const f = l.split(/\s+/);
    return { owner: f[1]!, path: f.slice(5).join(" ").replace(/\/$/, "") };
  });
  const paths = new Set(entries.map((e) => e.path));

  it("reads a final stage from the Dockerfile", () => {
    expect(stage.entrypoint.length).toBeGreaterThan(0);
    expect(stage.copies.length).toBeGreaterThan(0);
  });

  it("has the Dockerfile's entrypoint, user, working directory, environment and ports", () => {
    expect(c.Entrypoint).toEqual(stage.entrypoint);
    expect(c.User).toBe(stage.user);
    expect(c.WorkingDir).toBe(stage.workdir);
    for (const env of stage.env) expect(c.Env).toContain(env);
    expect(Object.keys(c.ExposedPorts).sort()).toEqual([...stage.ports].sort());
    // `node` resolves where the Node.js images put it.
    expect(paths).toContain("usr/local/bin/node");
    expect(c.Env.find((e) => e.startsWith("PATH="))).toContain("/usr/local/bin");
  });

  it("holds exactly the files the Dockerfile copies into the working directory", () => {
    const app = stage.workdir.replace(/^\//, "");
    const top = new Set(
      [...paths].filter((p) => p.startsWith(`${app}/`)).map((p) => p.split("/")[1]!),
    );
    const copied = new Set(stage.copies.map((p) => p.split("/")[0]!));
    expect([...top].sort()).toEqual([...copied].sort());
    for (const dest of stage.copies) expect(paths).toContain(`${app}/${dest}`);
    expect([...paths].filter((p) => p.endsWith(".test.js") || p.includes("/testing/"))).toEqual([]);
  });

  it("leaves every file to root, so user 65532 cannot change them", () => {
    expect(entries.filter((e) => e.owner !== "0/0")).toEqual([]);
  });
});
