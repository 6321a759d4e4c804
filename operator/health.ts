/**
 * The health server: `/healthz` answers while the event loop turns; `/readyz` answers 200 only
 * when every readiness check passes, and otherwise lists the failing ones (503).
 */
import { closeServer, listenOn } from "./serve";
import * as http from "node:http";

/** ReadinessCheck returns undefined when ready, or why not. */
export type ReadinessCheck = () => string | undefined;

/** HealthServer serves /healthz and /readyz. */
export class HealthServer {
  private server?: http.Server;
  private readonly checks = new Map<string, ReadinessCheck>();

  /** addCheck registers a named readiness check. */
  addCheck(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** failing lists the readiness checks that do not pass, as "name: why". */
  failing(): string[] {
    const out: string[] = [];
    for (const [name, check] of this.checks) {
      const why = check();
      if (why !== undefined) out.push(`${name}: ${why}`);
    }
    return out;
  }

  /** listen starts serving; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    this.server = http.createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (path === "/healthz" || path === "/livez") {
        res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
        return;
      }
      if (path === "/readyz") {
        const failing = this.failing();
        if (failing.length === 0) res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
        else
          res
            .writeHead(503, { "Content-Type": "text/plain" })
            .end(`not ready:\n${failing.join("\n")}\n`);
        return;
      }
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
    });
    return listenOn(this.server, port, host);
  }

  /** close stops serving. */
  close(): Promise<void> {
    return closeServer(this.server);
  }
}
