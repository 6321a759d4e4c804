/**
 * build-tools builds (or finds in the cache) the Go programs the tests run: the gopher-lua runner of
 * the Argo CD health check, the PromQL metric-name checker and promtool (`make tools`; `make test`
 * runs it first so a cold build shows its progress outside jest).
 */
import { join } from "node:path";
import { luaRunnerBinary } from "./argocd-lua/runner";
import { buildGoTool } from "./go-tool";
import { promtoolBinary } from "./promql/promql";

if (require.main === module) {
  const steps: [string, () => string][] = [
    ["argocd-lua", luaRunnerBinary],
    ["promql", () => buildGoTool(join(__dirname, "promql"))],
    ["promtool", promtoolBinary],
  ];
  for (const [name, build] of steps) {
    const t0 = Date.now();
    const bin = build();
    process.stderr.write(`==> ${name}: ${bin} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
}
