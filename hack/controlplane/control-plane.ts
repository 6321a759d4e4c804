/**
 * LocalControlPlane runs etcd, kube-apiserver and kube-controller-manager as local processes on
 * free loopback ports, the way controller-runtime's envtest does, with certificates made on the
 * fly and a kubeconfig holding an admin client certificate. Used by jest's global setup and by
 * `make cluster-up` / `make cluster-down`.
 */
import { mkdirSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:net";
import * as https from "node:https";
import * as http from "node:http";
import { makeControlPlaneCerts, type ControlPlaneCerts, type PemPair } from "./certs";
import { isRunning, startProcess, stopProcess, waitReady, type ManagedProcess } from "./process";

/** ControlPlaneOptions configures one local control plane. */
export interface ControlPlaneOptions {
  /** Directory with kube-apiserver, kube-controller-manager and etcd (hack/testbin/build.sh). */
  binDir: string;
  /** Working directory for data, certificates, logs, kubeconfig and state. */
  dir: string;
  /** Keep the processes running after this process exits (make cluster-up). */
  detached?: boolean;
  /** Progress messages. */
  log?: (message: string) => void;
  /** How long to wait for each component to become ready. */
  readyTimeoutMs?: number;
  /** Configure the API server and controllers for a node (hack/controlplane/node.ts). */
  node?: NodeSettings;
}

/**
 * NodeSettings turn the control plane into one a kubelet can join: the API server listens on the
 * node's address too (pods reach it through the `kubernetes` Service), authorizes with
 * Node,RBAC, admits with NodeRestriction and ServiceAccount (pods get tokens), calls kubelets
 * with a client certificate, and reaches webhooks at their Services' endpoints; the controller
 * manager also runs the workload, endpoint and root-CA controllers.
 */
export interface NodeSettings {
  /** Node name (the kubelet's identity is system:node:<name>). */
  name: string;
  /** The node's IP: the machine's own address (kubelet refuses loopback). */
  ip: string;
}

/** SERVICE_CIDR is the Service IP range; its first address is the `kubernetes` Service. */
export const SERVICE_CIDR = "10.0.0.0/24";
/** KUBERNETES_SERVICE_IP is the `kubernetes` Service's cluster IP. */
export const KUBERNETES_SERVICE_IP = "10.0.0.1";

/**
 * podCertificateFlags serve Pod Certificates (KEP-4317, beta and off by default in 1.36): the
 * PodCertificateRequest API in certificates.k8s.io/v1beta1, which meshid signs as a signer, and
 * ClusterTrustBundles (beta, off by default), where meshid publishes its signer's trust bundle.
 */
const podCertificateFlags = [
  "--feature-gates=PodCertificateRequest=true,ClusterTrustBundle=true",
  "--runtime-config=certificates.k8s.io/v1beta1=true",
];

/** ControlPlaneState is what `cluster-down` needs to find and stop the processes. */
export interface ControlPlaneState {
  dir: string;
  kubeconfig: string;
  server: string;
  processes: { name: string; pid: number; bin: string; logFile: string }[];
}

/** freePort returns a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** LocalControlPlane is a running etcd + kube-apiserver + kube-controller-manager. */
export class LocalControlPlane {
  private readonly procs = new Map<string, ManagedProcess>();
  private etcdPort = 0;
  private apiPort = 0;
  private certs?: ControlPlaneCerts;

  private constructor(private readonly opts: ControlPlaneOptions) {}

  /** start brings up a new control plane and resolves once the API server is ready. */
  static async start(opts: ControlPlaneOptions): Promise<LocalControlPlane> {
    const cp = new LocalControlPlane(opts);
    try {
      await cp.bootstrap();
    } catch (err) {
      await cp.stop();
      throw err;
    }
    return cp;
  }

  /** dir is the working directory. */
  get dir(): string {
    return this.opts.dir;
  }

  /** nodeIp is the node's address when the control plane was started for a node. */
  get nodeIp(): string | undefined {
    return this.opts.node?.ip;
  }

  /** kubeconfigPath is the admin kubeconfig. */
  get kubeconfigPath(): string {
    return join(this.opts.dir, "kubeconfig");
  }

  /** server is the API server's URL. */
  get server(): string {
    return `https://127.0.0.1:${this.apiPort}`;
  }

  /** logFile is the log of one component. */
  logFile(name: "etcd" | "kube-apiserver" | "kube-controller-manager"): string {
    return join(this.opts.dir, "logs", `${name}.log`);
  }

  private log(message: string): void {
    this.opts.log?.(message);
  }

  private path(...parts: string[]): string {
    return join(this.opts.dir, ...parts);
  }

  private bin(name: string): string {
    const p = join(this.opts.binDir, name);
    if (!existsSync(p)) {
      throw new Error(`${p} is missing: build the control plane with hack/testbin/build.sh`);
    }
    return p;
  }

  private async bootstrap(): Promise<void> {
    for (const d of ["", "logs", "pki", "etcd"]) mkdirSync(this.path(d), { recursive: true });
    const t0 = Date.now();
    const node = this.opts.node;
    this.certs = await makeControlPlaneCerts(
      node
        ? {
            ips: [node.ip, KUBERNETES_SERVICE_IP],
            dnsNames: ["kubernetes", "kubernetes.default", "kubernetes.default.svc"],
            nodeName: node.name,
          }
        : {},
    );
    const files: Record<string, string> = {
      "serving-ca.crt": this.certs.servingCa.cert,
      "apiserver.crt": this.certs.serving.cert,
      "apiserver.key": this.certs.serving.key,
      "client-ca.crt": this.certs.clientCa.cert,
      // Tests sign node identities (system:node:<name>) with it; test-bed credentials only.
      "client-ca.key": this.certs.clientCa.key,
      "sa.pub": this.certs.serviceAccount.publicKey,
      "sa.key": this.certs.serviceAccount.privateKey,
    };
    if (this.certs.node) {
      const n = this.certs.node;
      files["apiserver-kubelet-client.crt"] = n.apiserverKubeletClient.cert;
      files["apiserver-kubelet-client.key"] = n.apiserverKubeletClient.key;
    }
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(this.path("pki", name), content, { mode: 0o600 });
    }
    this.etcdPort = await freePort();
    this.apiPort = await freePort();
    this.writeKubeconfig(this.kubeconfigPath, this.certs.admin);
    if (this.certs.node) {
      const n = this.certs.node;
      this.writeKubeconfig(this.path("kubelet.kubeconfig"), n.kubelet);
      this.writeKubeconfig(this.path("scheduler.kubeconfig"), n.scheduler);
      this.writeKubeconfig(this.path("proxy.kubeconfig"), n.proxy);
    }

    await this.startEtcd();
    this.log(`etcd ready on 127.0.0.1:${this.etcdPort}`);
    await this.startApiServer();
    this.log(`kube-apiserver ready at ${this.server}`);
    this.startControllerManager();
    this.writeState();
    this.log(`control plane up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  private spawn(name: string, args: string[]): ManagedProcess {
    const p = startProcess({
      name,
      bin: this.bin(name),
      args,
      logFile: this.logFile(name as "etcd"),
      detached: this.opts.detached ?? false,
      ...(this.opts.detached ? {} : { ownerPid: process.pid }),
    });
    this.procs.set(name, p);
    return p;
  }

  private async startEtcd(): Promise<void> {
    const peerPort = await freePort();
    const client = `http://127.0.0.1:${this.etcdPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const p = this.spawn("etcd", [
      `--data-dir=${this.path("etcd")}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      "--unsafe-no-fsync=true",
      "--log-level=warn",
    ]);
    await this.waitFor(p, async () => {
      const body = await httpGet(`${client}/health`);
      return body !== undefined && body.includes('"health":"true"');
    });
  }

  /** startApiServer starts (or restarts, after stopApiServer) kube-apiserver on the same port. */
  async startApiServer(): Promise<void> {
    const pki = (f: string) => this.path("pki", f);
    const node = this.opts.node;
    const access = node
      ? [
          // Pods reach the API server through the `kubernetes` Service, whose endpoint is the
          // node's address; kubectl and the tests keep using 127.0.0.1.
          "--bind-address=0.0.0.0",
          `--advertise-address=${node.ip}`,
          "--endpoint-reconciler-type=lease",
          "--authorization-mode=Node,RBAC",
          "--enable-admission-plugins=NodeRestriction",
          `--kubelet-client-certificate=${pki("apiserver-kubelet-client.crt")}`,
          `--kubelet-client-key=${pki("apiserver-kubelet-client.key")}`,
          // kubectl logs/exec: the node's name does not resolve, its InternalIP does.
          "--kubelet-preferred-address-types=InternalIP",
          // Webhooks and aggregated APIs are called at their Service's endpoints (pod IPs),
          // so no Service proxy is needed between the API server and the operator's pods.
          "--enable-aggregator-routing=true",
        ]
      : [
          "--bind-address=127.0.0.1",
          "--advertise-address=127.0.0.1",
          "--endpoint-reconciler-type=none",
          // Node,RBAC and NodeRestriction here too, so PodCertificateRequests can be made by a
          // node identity (a client certificate from client-ca) without a kubelet.
          "--authorization-mode=Node,RBAC",
          "--enable-admission-plugins=NodeRestriction",
          "--disable-admission-plugins=ServiceAccount",
        ];
    const p = this.spawn("kube-apiserver", [
      `--etcd-servers=http://127.0.0.1:${this.etcdPort}`,
      `--secure-port=${this.apiPort}`,
      ...access,
      `--tls-cert-file=${pki("apiserver.crt")}`,
      `--tls-private-key-file=${pki("apiserver.key")}`,
      `--client-ca-file=${pki("client-ca.crt")}`,
      "--service-account-issuer=https://kubernetes.default.svc",
      `--service-account-key-file=${pki("sa.pub")}`,
      `--service-account-signing-key-file=${pki("sa.key")}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      ...podCertificateFlags,
      "--allow-privileged=true",
      "--profiling=false",
    ]);
    await this.waitFor(p, async () => (await this.apiGet("/readyz")) === "ok");
  }

  /** stopApiServer stops kube-apiserver only, to test how clients survive an outage. */
  async stopApiServer(): Promise<void> {
    const p = this.procs.get("kube-apiserver");
    if (p) await stopProcess(p);
    this.procs.delete("kube-apiserver");
  }

  private startControllerManager(): void {
    const controllers = [
      "garbage-collector-controller",
      "namespace-controller",
      "serviceaccount-controller",
      "serviceaccount-token-controller",
    ];
    if (this.opts.node) {
      controllers.push(
        "deployment-controller",
        "replicaset-controller",
        "endpoints-controller",
        "endpointslice-controller",
        "disruption-controller",
        // Lifts the not-ready taint a kubelet registers its node with, once it is Ready.
        "node-lifecycle-controller",
        // Publishes kube-root-ca.crt, which every service-account token volume projects.
        "root-ca-certificate-publisher-controller",
      );
    }
    this.spawn("kube-controller-manager", [
      `--kubeconfig=${this.kubeconfigPath}`,
      "--leader-elect=false",
      "--secure-port=0",
      `--controllers=${controllers.join(",")}`,
      `--service-account-private-key-file=${this.path("pki", "sa.key")}`,
      `--root-ca-file=${this.path("pki", "serving-ca.crt")}`,
      "--use-service-account-credentials=false",
    ]);
  }

  private waitFor(p: ManagedProcess, ready: () => Promise<boolean>): Promise<void> {
    return waitReady(p, ready, this.opts.readyTimeoutMs ?? 120_000);
  }

  /** apiGet performs an authenticated GET against the API server and returns the body on 200. */
  apiGet(path: string): Promise<string | undefined> {
    const certs = this.certs!;
    return new Promise((resolve) => {
      const req = https.get(
        {
          host: "127.0.0.1",
          port: this.apiPort,
          path,
          ca: certs.servingCa.cert,
          cert: certs.admin.cert,
          key: certs.admin.key,
          timeout: 5_000,
        },
        (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve(res.statusCode === 200 ? body : undefined));
        },
      );
      req.on("error", () => resolve(undefined));
      req.on("timeout", () => req.destroy());
    });
  }

  /** writeKubeconfig writes a kubeconfig for one client certificate of this control plane. */
  private writeKubeconfig(file: string, user: PemPair): void {
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const certs = this.certs!;
    const kubeconfig = [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: meshid-local",
      "  cluster:",
      `    server: ${this.server}`,
      `    certificate-authority-data: ${b64(certs.servingCa.cert)}`,
      "users:",
      "- name: meshid-admin",
      "  user:",
      `    client-certificate-data: ${b64(user.cert)}`,
      `    client-key-data: ${b64(user.key)}`,
      "contexts:",
      "- name: meshid-local",
      "  context: {cluster: meshid-local, user: meshid-admin}",
      "current-context: meshid-local",
      "",
    ].join("\n");
    writeFileSync(file, kubeconfig, { mode: 0o600 });
  }

  private writeState(): void {
    const state: ControlPlaneState = {
      dir: this.opts.dir,
      kubeconfig: this.kubeconfigPath,
      server: this.server,
      processes: [...this.procs.values()].map(({ name, pid, bin, logFile }) => ({
        name,
        pid,
        bin,
        logFile,
      })),
    };
    writeFileSync(this.path("state.json"), JSON.stringify(state, null, 2));
  }

  /** stop stops every process this control plane started, the API clients' side first. */
  async stop(): Promise<void> {
    for (const name of ["kube-controller-manager", "kube-apiserver", "etcd"]) {
      const p = this.procs.get(name);
      if (p) await stopProcess(p);
      this.procs.delete(name);
    }
  }
}

/** readState reads the state a detached control plane left in `dir`, if any. */
export function readState(dir: string): ControlPlaneState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as ControlPlaneState;
  } catch {
    return undefined;
  }
}

/** stopFromState stops the processes recorded in a state file; true if any was running. */
export async function stopFromState(state: ControlPlaneState): Promise<boolean> {
  let any = false;
  for (const name of ["kube-controller-manager", "kube-apiserver", "etcd"]) {
    const p = state.processes.find((q) => q.name === name);
    if (p && isRunning(p.pid, p.bin)) {
      any = true;
      await stopProcess(p);
    }
  }
  return any;
}

function httpGet(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2_000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve(body));
    });
    req.on("error", () => resolve(undefined));
    req.on("timeout", () => req.destroy());
  });
}
