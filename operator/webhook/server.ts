/**
 * WebhookServer serves the admission webhook over HTTPS only, with a serving certificate that can
 * be swapped at run time (renewal) without dropping the listener.
 */
import type * as http from "node:http";
import * as https from "node:https";
import { closeServer, listenOn } from "../serve";
import type { Logger } from "../logger";
import { admit, type AdmissionDeps } from "./admission";

/** webhookPath is where the API server sends pod AdmissionReviews. */
const webhookPath = "/mutate-pods";

/** maxBodyBytes bounds a request body (a pod object is far smaller). */
const maxBodyBytes = 3 * 1024 * 1024;

/** maxBufferedBytes bounds the request bodies held at once, across every connection. */
const maxBufferedBytes = 24 * 1024 * 1024;

/** maxConnections bounds the open connections; the API server keeps a few alive per replica. */
const maxConnections = 512;

/** requestTimeoutMs bounds the time one request may take, headers and body included. */
const requestTimeoutMs = 10_000;

/** ServingCertificate is a PEM chain and its key. */
export interface ServingCertificate {
  certChainPem: string;
  keyPem: string;
}

/** WebhookServer is the HTTPS admission endpoint. */
export class WebhookServer {
  private server?: https.Server;
  /** buffered counts the bytes of request bodies being received. */
  private buffered = 0;

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
      (req, res) => this.handle(req, res),
    );
    // A client that sends slowly or not at all is cut off: the API server's own timeout for a
    // webhook call is at most 30 s, so nothing legitimate takes longer.
    server.maxConnections = maxConnections;
    server.headersTimeout = requestTimeoutMs;
    server.requestTimeout = requestTimeoutMs;
    server.setTimeout(requestTimeoutMs, (socket) => socket.destroy());
    server.on("tlsClientError", (err) =>
      this.log.debug("Webhook TLS handshake failed", { error: err.message }),
    );
    server.on("clientError", (err, socket) => {
      this.log.debug("Webhook client error", { error: err.message });
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      else socket.destroy();
    });
    this.server = server;
    return listenOn(server, port, host);
  }

  /** handle answers one request; whatever the request holds, it ends in a response. */
  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const reply = (status: number, body: unknown) => {
      if (res.headersSent || res.destroyed) return;
      // After a 413 or 503 the rest of the body is never read: close the connection instead.
      const headers = status === 413 || status === 503 ? { Connection: "close" } : {};
      res
        .writeHead(status, { "Content-Type": "application/json", ...headers })
        .end(JSON.stringify(body));
    };
    const path = (req.url ?? "").split("?")[0];
    if (req.method !== "POST" || path !== webhookPath) {
      reply(404, { error: `POST ${webhookPath} only` });
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    // Bodies being received count against one budget for the whole process: many connections
    // each holding an unfinished body must not exhaust the operator's memory.
    const release = () => {
      this.buffered -= size;
      size = 0;
      chunks.length = 0;
    };
    req.on("error", (err) => this.log.debug("Webhook request failed", { error: err.message }));
    req.on("close", release);
    req.on("data", (c: Buffer) => {
      if (refused) return;
      if (size + c.length > maxBodyBytes) {
        refused = true;
        release();
        reply(413, { error: `the body is larger than ${maxBodyBytes} bytes` });
        return;
      }
      if (this.buffered + c.length > maxBufferedBytes) {
        refused = true;
        release();
        reply(503, { error: "too many requests in progress; retry" });
        return;
      }
      size += c.length;
      this.buffered += c.length;
      chunks.push(c);
    });
    req.on("end", () => {
      if (refused) return;
      const body = Buffer.concat(chunks);
      release();
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString("utf8"));
      } catch {
        reply(400, { error: "body is not JSON" });
        return;
      }
      let result;
      try {
        result = admit(parsed, this.deps);
      } catch (err) {
        this.log.error("Admission failed", err instanceof Error ? err : { error: String(err) });
        reply(500, { error: "internal error while reviewing the request" });
        return;
      }
      if (result.status !== 200)
        this.log.warn("Malformed AdmissionReview", {
          status: result.status,
          error: (result.body as { error?: string }).error,
        });
      if (result.injected) this.log.info("Injected identity volume", result.injected);
      if (result.refused) this.log.info("Refused pod", result.refused);
      reply(result.status, result.body);
    });
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
