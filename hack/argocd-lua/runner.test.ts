/**
 * The MeshIdentity health check under gopher-lua, run by hack/argocd-lua the way Argo CD's own Lua
 * tests run resource_customizations: every case of health_test.yaml must give exactly the expected
 * status and message. The controls below show the runner does fail when it should.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { healthCases, healthCheckDir } from "../argocd-health";
import { repoRoot } from "../gen-manifests";
import { luaRunnerBinary, runHealthTests, runLuaRunner, scriptGlobals } from "./runner";

const tree = join(repoRoot, "manifests", "argocd", "resource_customizations");
const script = join(repoRoot, healthCheckDir, "health.lua");

// A cold build of the runner compiles gopher-lua: up to a minute on a busy machine.
beforeAll(() => luaRunnerBinary(), 180_000);

let scratch: string;
beforeEach(() => (scratch = mkdtempSync(join(tmpdir(), "meshid-argocd-lua-"))));
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

/** scratchCheck writes a one-case resource_customizations tree and returns its root. */
function scratchCheck(lua: string, expected: string, object = "metadata: {generation: 1}\n") {
  const dir = join(scratch, "example.com", "Thing");
  mkdirSync(join(dir, "testdata"), { recursive: true });
  writeFileSync(join(dir, "health.lua"), lua);
  writeFileSync(join(dir, "health_test.yaml"), `tests:\n  - inputPath: thing.yaml\n${expected}`);
  writeFileSync(join(dir, "thing.yaml"), object);
  return scratch;
}

describe("the MeshIdentity health check under gopher-lua", () => {
  it("gives every case of health_test.yaml its exact status and message, with argocd-cm's libraries and with all", () => {
    const run = runHealthTests(tree);
    expect(run.results.filter((r) => !r.pass)).toEqual([]);
    expect(run.code).toBe(0);
    const names = [...new Set(run.results.map((r) => r.name))].sort();
    expect(names).toEqual(healthCases().map((c) => `meshid.dev/MeshIdentity/testdata/${c.file}`));
    expect(run.results.map((r) => r.libs).filter((l) => l === "argocd-cm")).toHaveLength(
      names.length,
    );
  });

  it("covers Healthy, Progressing and Degraded", () => {
    expect(new Set(healthCases().map((c) => c.expected.status))).toEqual(
      new Set(["Healthy", "Progressing", "Degraded"]),
    );
  });

  it("sets no global and reads no global but obj and Lua's base functions", () => {
    const { reads, writes } = scriptGlobals(script);
    expect(writes).toEqual([]);
    expect(reads).toContain("obj");
    const base = ["obj", "ipairs", "pairs", "tostring", "tonumber", "type", "table"];
    expect(reads.filter((g) => !base.includes(g))).toEqual([]);
  });
});

describe("the runner's controls", () => {
  const healthy = 'return {status = "Healthy", message = "fine"}\n';
  const expectFine = "    healthStatus: {status: Healthy, message: fine}\n";

  it("passes a script that gives the expected status and message", () => {
    const run = runHealthTests(scratchCheck(healthy, expectFine));
    expect(run.code).toBe(0);
    expect(run.results.map((r) => r.pass)).toEqual([true, true]);
  });

  it("fails a case whose message differs by one character", () => {
    const run = runHealthTests(
      scratchCheck(healthy, "    healthStatus: {status: Healthy, message: fine.}\n"),
    );
    expect(run.code).toBe(1);
    expect(run.results.map((r) => r.pass)).toEqual([false, false]);
    expect(run.results[0]!.actual).toEqual({ status: "Healthy", message: "fine" });
  });

  it("fails a script that returns no table, as Argo CD refuses it", () => {
    const run = runHealthTests(scratchCheck("local hs = {}\n", expectFine));
    expect(run.code).toBe(1);
    expect(run.results[0]!.error).toBe("expect table output from Lua script, not nil");
  });

  it("fails a script that uses the string library, which argocd-cm scripts do not get", () => {
    const lua = 'return {status = "Healthy", message = string.lower("FINE")}\n';
    const run = runHealthTests(scratchCheck(lua, expectFine));
    expect(run.results.map((r) => [r.libs, r.pass])).toEqual([
      ["argocd-cm", false],
      ["all", true],
    ]);
    expect(run.results[0]!.error).toMatch(/string/);
  });

  it("reports a status outside Argo CD's set as Unknown with Argo CD's message", () => {
    const run = runHealthTests(
      scratchCheck(
        'return {status = "Fine"}\n',
        "    healthStatus: {status: Unknown, message: Lua returned an invalid health status}\n",
      ),
    );
    expect(run.code).toBe(0);
  });

  it("stops a script that runs longer than Argo CD's one second", () => {
    const run = runHealthTests(scratchCheck("while true do end\n", expectFine));
    expect(run.code).toBe(1);
    expect(run.results[0]!.error).toMatch(/context deadline exceeded/);
  });

  it("refuses a testdata file that no case uses", () => {
    const root = scratchCheck(healthy, expectFine);
    copyFileSync(
      join(repoRoot, healthCheckDir, "testdata", "healthy-issued.yaml"),
      join(root, "example.com", "Thing", "testdata", "forgotten.yaml"),
    );
    const run = runHealthTests(root);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/forgotten\.yaml is used by no case/);
  });

  it("refuses an empty tree, so a wrong path cannot pass", () => {
    const run = runHealthTests(scratch);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no health\.lua with cases/);
  });

  it("exits 2 on an unknown command", () => {
    expect(runLuaRunner(["lint", script]).code).toBe(2);
  });
});
