/**
 * listenOn and closeServer: the one way the operator's HTTP(S) servers (health, metrics, webhook)
 * start and stop.
 */
import type { Server } from "node:net";

/** listenOn starts `server` on host:port and resolves with the bound port (port 0 picks one). */
export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const addr = server.address();
      resolve(typeof addr === "object" && addr ? addr.port : port);
    });
  });
}

/** closeServer stops accepting connections and resolves once the server is closed. */
export function closeServer(server: Server | undefined): Promise<void> {
  return server ? new Promise((resolve) => server.close(() => resolve())) : Promise.resolve();
}
