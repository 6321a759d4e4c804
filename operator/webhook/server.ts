/**
 * WebhookServer serves the admission webhook over HTTPS only, with a serving certificate that can
 * be swapped at run time (renewal) without dropping the listener.
 */
import * as https from "node:https";
import { closeServer, listenOn } from "../serve";
import type { Logger } from "../logger";
import { admit, type AdmissionDeps } from "./admission";

/** webhookPath is where the API server sends pod AdmissionReviews. */
export const webhookPath = "/mutate-pods";

/** maxBodyBytes bounds a request body (a pod object is far smaller). */
const maxBodyBytes = 3 * 1024 * 1024;

/** ServingCertificate is a PEM chain and its key. */
export interface ServingCertificate {
  certChainPem: string;
  keyPem: string;
}

/** WebhookServer is the HTTPS admission endpoint. */
export class WebhookServer {
  private server?: https.Server;

  constructor(
    private readonly deps: AdmissionDeps,
    private readonly log: Logger,
  ) {}

  /** serving is true once the server listens. */
  get serving(): boolean {
    return this.server?.listening ?? false;
  }

  /** listen starts serving with `cert`; resolves with the bound port. */
  listen(port: number, host: string, cert: ServingCertificate): Promise<number> {
    const server = https.createServer(
      { cert: cert.certChainPem, key: cert.keyPem, minVersion: "TLSv1.2" },
      (req, res) => {
        const path = (req.url ?? "").split("?")[0];
        if (req.method !== "POST" || path !== webhookPath) {
          res
            .writeHead(404, { "Content-Type": "application/json" })
            .end(JSON.stringify({ error: `POST ${webhookPath} only` }));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        req.on("data", (c: Buffer) => {
          size += c.length;
          if (size > maxBodyBytes) {
            res.writeHead(413).end();
            req.destroy();
            return;
          }
          chunks.push(c);
        });
        req.on("end", () => {
          if (res.writableEnded) return;
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            res
              .writeHead(400, { "Content-Type": "application/json" })
              .end(JSON.stringify({ error: "body is not JSON" }));
            return;
          }
          const result = admit(parsed, this.deps);
          if (result.status !== 200)
            this.log.warn("Malformed AdmissionReview", {
              status: result.status,
              error: (result.body as { error?: string }).error,
            });
          if (result.injected) this.log.info("Injected identity volume", result.injected);
          res
            .writeHead(result.status, { "Content-Type": "application/json" })
            .end(JSON.stringify(result.body));
        });
      },
    );
    server.on("tlsClientError", (err) =>
      this.log.debug("Webhook TLS handshake failed", { error: err.message }),
    );
    this.server = server;
    return listenOn(server, port, host);
  }

  /** setCertificate swaps the serving certificate for new connections. */
  setCertificate(cert: ServingCertificate): void {
    this.server?.setSecureContext({ cert: cert.certChainPem, key: cert.keyPem });
  }

  /** close stops serving. */
  close(): Promise<void> {
    return closeServer(this.server);
  }
}
