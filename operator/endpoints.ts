/**
 * The process's HTTP endpoints besides the webhook: /metrics, /healthz and /readyz, with the
 * readiness checks of the caches and the CA.
 */
import type { Config } from "./config";
import type { HealthServer } from "./health";
import type { ControllerManager } from "./kube/manager";
import type { Logger } from "./logger";
import type { Metrics } from "./metrics";
import type { CaStatus } from "./controllers/ca-manager";

/** EndpointDeps are what the endpoints serve and check. */
export interface EndpointDeps {
  config: Pick<Config, "metricsPort" | "healthPort" | "bindAddress">;
  log: Logger;
  metrics: Metrics;
  health: HealthServer;
  manager: ControllerManager;
  ca: () => CaStatus | undefined;
}

/** serveEndpoints starts the metrics and health servers (a port of 0 disables one). */
export async function serveEndpoints(deps: EndpointDeps): Promise<void> {
  const { config, log, metrics, health, manager } = deps;
  if (config.metricsPort > 0) {
    const port = await metrics.listen(config.metricsPort, config.bindAddress);
    log.info("Serving metrics", { port, path: "/metrics" });
  }
  if (config.healthPort > 0) {
    const port = await health.listen(config.healthPort, config.bindAddress);
    log.info("Serving health checks", { port, paths: ["/healthz", "/readyz"] });
  }
  health.addCheck("caches", () => {
    const unsynced = manager.unsynced();
    return unsynced.length > 0 ? `not synced: ${unsynced.join(", ")}` : undefined;
  });
  health.addCheck("ca", () => {
    const s = deps.ca();
    return !s ? "not loaded" : s.ready ? undefined : `${s.reason}: ${s.message}`;
  });
}
