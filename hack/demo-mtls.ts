/**
 * demo-mtls: a real mTLS handshake between the certificates of two pods, as the demo's last step.
 * A node:tls server holds pod A's Secret, a client holds pod B's; both require and verify the
 * other's certificate against the trust bundle, and each prints the SPIFFE ID it saw.
 *
 *   tsx hack/demo-mtls.ts <secret-a.json> <secret-b.json>   (kubectl get secret -o json output)
 */
import { readFileSync } from "node:fs";
import * as tls from "node:tls";

interface SecretJson {
  metadata: { name: string };
  data: Record<string, string>;
}

function load(path: string): { name: string; cert: string; key: string; ca: string } {
  const s = JSON.parse(readFileSync(path, "utf8")) as SecretJson;
  const d = (k: string) => Buffer.from(s.data[k] ?? "", "base64").toString("utf8");
  return { name: s.metadata.name, cert: d("tls.crt"), key: d("tls.key"), ca: d("ca.crt") };
}

function spiffeId(cert: tls.PeerCertificate): string {
  return (
    (cert.subjectaltname ?? "")
      .split(", ")
      .find((s) => s.startsWith("URI:spiffe://"))
      ?.slice(4) ?? "(none)"
  );
}

async function main(): Promise<void> {
  const [aPath, bPath] = process.argv.slice(2);
  if (!aPath || !bPath) throw new Error("usage: demo-mtls <secret-a.json> <secret-b.json>");
  const a = load(aPath);
  const b = load(bPath);
  const server = tls.createServer(
    { cert: a.cert, key: a.key, ca: a.ca, requestCert: true, rejectUnauthorized: true },
    (socket) => {
      console.log(`  server (${a.name}) verified client: ${spiffeId(socket.getPeerCertificate())}`);
      socket.end("ok");
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve, reject) => {
    const socket = tls.connect(
      {
        host: "127.0.0.1",
        port,
        cert: b.cert,
        key: b.key,
        ca: b.ca,
        checkServerIdentity: () => undefined,
      },
      () => {
        console.log(
          `  client (${b.name}) verified server: ${spiffeId(socket.getPeerCertificate())}`,
        );
        console.log(
          `  handshake: ${socket.getProtocol() ?? "?"}, ${socket.getCipher().name}, authorized=${socket.authorized}`,
        );
      },
    );
    socket.on("data", () => socket.end());
    socket.on("end", resolve);
    socket.on("error", reject);
  });
  server.close();
}

main().catch((err: unknown) => {
  console.error(`mTLS handshake failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
