/**
 * rawRequest sends one JSON request with the kubeconfig's credentials. Used where client-node
 * 0.20's typed serializer gets the wire format wrong (MicroTime in Leases) or picks the wrong
 * patch content type.
 */
import * as k8s from "@kubernetes/client-node";
import * as https from "node:https";
import * as http from "node:http";
import { ApiError } from "./errors";

/** RawRequest describes one request. */
export interface RawRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
}

/** rawRequest resolves with the parsed JSON body, or rejects with an ApiError. */
export async function rawRequest<T>(kc: k8s.KubeConfig, req: RawRequest): Promise<T> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ApiError(undefined, "NoCluster", "kubeconfig has no current cluster");
  const url = new URL(cluster.server + req.path);
  const opts: https.RequestOptions = { method: req.method, headers: {} };
  await kc.applyToHTTPSOptions(opts);
  const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
  opts.headers = {
    ...(opts.headers as Record<string, string>),
    Accept: "application/json",
    ...(payload
      ? {
          "Content-Type": req.contentType ?? "application/json",
          "Content-Length": String(payload.length),
        }
      : {}),
  };
  const what = `${req.method} ${req.path}`;
  return new Promise<T>((resolve, reject) => {
    const lib = url.protocol === "https:" ? https : http;
    const r = lib.request(url, { ...opts, timeout: req.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) return resolve(body as T);
        const status = (body ?? {}) as { reason?: string; message?: string };
        reject(
          new ApiError(
            code,
            status.reason ?? `Status${code}`,
            `${what}: ${code} ${status.message ?? text.slice(0, 200)}`,
          ),
        );
      });
      res.on("error", (err) =>
        reject(new ApiError(undefined, "Unreachable", `${what}: ${err.message}`, err)),
      );
    });
    r.on("timeout", () => r.destroy(new Error("request timed out")));
    r.on("error", (err) =>
      reject(
        new ApiError(
          undefined,
          "Unreachable",
          `${what}: API server unreachable (${err.message})`,
          err,
        ),
      ),
    );
    if (payload) r.write(payload);
    r.end();
  });
}
