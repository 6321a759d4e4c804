import { once } from "node:events";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { issueLeaf } from "./issue";
import { generateKey } from "./keys";
import type { Usage } from "./usages";
import { newTestCa, type TestCa } from "./testing/fixtures";

// A real handshake runs on the wall clock, so these CAs and leaves are issued "now".
let a: TestCa;
let b: TestCa;

beforeAll(async () => {
  const now = new Date();
  [a, b] = await Promise.all([newTestCa({ now }), newTestCa({ now })]);
});

const serverId = "spiffe://cluster.local/ns/shop/sa/payments";
const clientId = "spiffe://cluster.local/ns/shop/sa/checkout";

async function credentials(ca: TestCa, spiffeId: string, usage: Usage) {
  const key = await generateKey({ algorithm: "ECDSA" });
  const leaf = await issueLeaf(ca.ca, {
    publicKeyPem: key.publicKeyPem,
    spiffeId,
    dnsNames: [],
    ipAddresses: [],
    usages: [usage],
    durationMs: 60 * 60 * 1000,
    now: new Date(),
  });
  return { key: key.privateKeyPem, cert: leaf.certChainPem, ca: ca.ca.trustBundlePem };
}

/** spiffeIdsOf reads the URI SANs of a peer certificate, as a SPIFFE-aware peer does. */
function spiffeIdsOf(cert: tls.PeerCertificate): string[] {
  return (cert.subjectaltname ?? "")
    .split(", ")
    .filter((s) => s.startsWith("URI:"))
    .map((s) => s.slice(4));
}

/** expectSpiffeId replaces hostname checks: a mesh peer is identified by its SPIFFE ID. */
function expectSpiffeId(expected: string) {
  return (_host: string, cert: tls.PeerCertificate): Error | undefined =>
    spiffeIdsOf(cert).includes(expected) ? undefined : new Error(`peer is not ${expected}`);
}

async function handshake(server: Awaited<ReturnType<typeof credentials>>, client: typeof server) {
  const srv = tls.createServer({ ...server, requestCert: true, rejectUnauthorized: true });
  const serverSaw = new Promise<string[]>((resolve) =>
    srv.on("secureConnection", (socket) => {
      resolve(spiffeIdsOf(socket.getPeerCertificate()));
      socket.end("hello");
    }),
  );
  // With rejectUnauthorized the server drops the connection; the reason stays on its socket.
  const serverRefused = once(srv, "tlsClientError").then(([, socket]) =>
    String((socket as tls.TLSSocket).authorizationError),
  );
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address() as AddressInfo;
  try {
    const socket = tls.connect({
      ...client,
      host: "127.0.0.1",
      port,
      checkServerIdentity: expectSpiffeId(serverId),
    });
    const clientOutcome = new Promise<{ peer?: string[]; data?: string; error?: Error }>(
      (resolve) => {
        socket.on("secureConnect", () => {
          const peer = spiffeIdsOf(socket.getPeerCertificate());
          socket.once("data", (d: Buffer) => resolve({ peer, data: d.toString() }));
        });
        socket.on("error", (error: Error) => resolve({ error }));
        socket.on("close", () => resolve({ error: new Error("closed") }));
      },
    );
    const outcome = await Promise.race([
      serverSaw.then(async (serverPeer) => ({ serverPeer, client: await clientOutcome })),
      serverRefused.then(async (refusal) => ({ refusal, client: await clientOutcome })),
    ]);
    socket.destroy();
    return outcome;
  } finally {
    srv.close();
  }
}

describe("issueLeaf in a real mTLS handshake", () => {
  it("connects two workloads of the same CA, and each reads the other's SPIFFE ID", async () => {
    const outcome = await handshake(
      await credentials(a, serverId, "server auth"),
      await credentials(a, clientId, "client auth"),
    );
    expect(outcome).toEqual({
      serverPeer: [clientId],
      client: { peer: [serverId], data: "hello" },
    });
  });

  it("refuses a client whose leaf comes from another CA", async () => {
    const client = { ...(await credentials(b, clientId, "client auth")), ca: a.ca.trustBundlePem };
    const outcome = await handshake(await credentials(a, serverId, "server auth"), client);
    expect("refusal" in outcome && outcome.refusal).toMatch(/UNABLE_TO_GET_ISSUER_CERT|SIGNATURE/);
    expect(outcome.client.error).toBeDefined();
    expect(outcome.client.data).toBeUndefined();
  });

  it("refuses a client whose leaf is only good for servers", async () => {
    const outcome = await handshake(
      await credentials(a, serverId, "server auth"),
      await credentials(a, clientId, "server auth"),
    );
    expect("refusal" in outcome && outcome.refusal).toBe("INVALID_PURPOSE");
    expect(outcome.client.data).toBeUndefined();
  });

  it("lets the client refuse a server whose leaf comes from another CA", async () => {
    const server = { ...(await credentials(b, serverId, "server auth")), ca: a.ca.trustBundlePem };
    const outcome = await handshake(server, await credentials(a, clientId, "client auth"));
    expect(outcome.client.error?.message).toMatch(
      /unable to get (local )?issuer certificate|signature/i,
    );
  });
});
