/**
 * meshid-operator: the process. Parses configuration (flags over environment), sets up logging,
 * starts the operator and shuts it down cleanly on SIGTERM/SIGINT.
 */
import "reflect-metadata";
import { ConfigError, helpText, parseConfig } from "./config";
import { createLogger } from "./logger";
import { MeshIdOperator } from "./operator";

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseConfig(process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`meshid-operator: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  const { config } = parsed;
  const log = createLogger(config.logLevel);
  process.on("unhandledRejection", (reason) => {
    log.error(
      "Unhandled promise rejection",
      reason instanceof Error ? reason : { reason: String(reason) },
    );
  });
  log.info("Starting meshid operator", {
    trustDomain: config.trustDomain,
    clusterDomain: config.clusterDomain,
    namespace: config.namespace,
    caMode: config.caMode,
    identity: config.identity,
    leaderElect: config.leaderElect,
  });
  const operator = new MeshIdOperator(config, log);
  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info("Shutting down", { signal });
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    operator
      .shutdown()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error("Shutdown failed", err instanceof Error ? err : { error: String(err) });
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  await operator.start();
}

main().catch((err: unknown) => {
  process.stderr.write(
    `meshid-operator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
