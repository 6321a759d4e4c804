/**
 * The local node's configuration files, rendered from its paths and addresses (no I/O): the
 * containerd configuration, the CNI network, the kubelet's and kube-proxy's configurations.
 */

/** POD_CIDR is the pods' address range on the node's bridge. */
export const POD_CIDR = "10.244.0.0/24";
/** CLUSTER_CIDR is the range kube-proxy treats as pod traffic. */
export const CLUSTER_CIDR = "10.244.0.0/16";
/** BRIDGE is the CNI bridge the node's pods attach to. */
export const BRIDGE = "meshid0";
/** CNI_BIN_DIR is where Debian's containernetworking-plugins installs the plugins. */
export const CNI_BIN_DIR = "/usr/lib/cni";
/** PAUSE_IMAGE is the sandbox image hack/images/build.sh packs. */
export const PAUSE_IMAGE = "meshid-pause:local";

/** NodePaths are the node's files and directories, all under the cluster's directory. */
export interface NodePaths {
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  runcRoot: string;
  cniConfDir: string;
  cniDataDir: string;
  kubeletRoot: string;
  podLogs: string;
}

/**
 * renderContainerdConfig renders a containerd 1.6 (config version 2) configuration.
 * `restrict_oom_score_adj` must stay true: without CAP_SYS_RESOURCE runc cannot write the
 * sandbox's negative oom_score_adj and every pod sandbox fails to start.
 */
export function renderContainerdConfig(p: NodePaths): string {
  return `version = 2
root = ${JSON.stringify(p.containerdRoot)}
state = ${JSON.stringify(p.containerdState)}

[grpc]
  address = ${JSON.stringify(p.containerdSocket)}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${JSON.stringify(PAUSE_IMAGE)}
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${JSON.stringify(CNI_BIN_DIR)}
    conf_dir = ${JSON.stringify(p.cniConfDir)}
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${JSON.stringify(p.runcRoot)}
`;
}

/**
 * renderCniConfig renders the pods' network: one bridge with the host as gateway, addresses
 * from host-local IPAM whose state stays in the cluster's directory. No IP masquerade: pods only
 * talk to each other and to the node.
 */
export function renderCniConfig(p: NodePaths): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "meshid",
      plugins: [
        {
          type: "bridge",
          bridge: BRIDGE,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            dataDir: p.cniDataDir,
            ranges: [[{ subnet: POD_CIDR }]],
            routes: [{ dst: "0.0.0.0/0" }],
          },
        },
      ],
    },
    null,
    2,
  );
}

/** KubeletSettings are the kubelet configuration's inputs. */
export interface KubeletSettings {
  paths: NodePaths;
  address: string;
  port: number;
  clientCaFile: string;
}

/**
 * renderKubeletConfig renders the kubelet's configuration: its API authenticated by client
 * certificate (the API server's) and authorized through the API server; cgroup v1 with cgroupfs
 * allowed; image garbage collection and disk eviction off, since imported images cannot be
 * pulled again; a short sync period so a renewed Secret reaches running pods quickly.
 */
export function renderKubeletConfig(s: KubeletSettings): string {
  return JSON.stringify(
    {
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      address: s.address,
      port: s.port,
      readOnlyPort: 0,
      healthzPort: 0,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: s.clientCaFile },
      },
      authorization: { mode: "Webhook" },
      containerRuntimeEndpoint: `unix://${s.paths.containerdSocket}`,
      cgroupDriver: "cgroupfs",
      failCgroupV1: false,
      // kubelet asks signers for pod certificates (projected podCertificate volumes).
      featureGates: { PodCertificateRequest: true },
      failSwapOn: false,
      podLogsDirectory: s.paths.podLogs,
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: {
        "memory.available": "1Mi",
        "nodefs.available": "1%",
        "imagefs.available": "1%",
      },
      syncFrequency: "10s",
      resolvConf: "/etc/resolv.conf",
      serializeImagePulls: false,
    },
    null,
    2,
  );
}

/** ProxySettings are kube-proxy's configuration's inputs. */
export interface ProxySettings {
  kubeconfig: string;
  nodeName: string;
  healthzPort: number;
  metricsPort: number;
}

/**
 * renderProxyConfig renders kube-proxy's configuration (iptables mode). Every Service
 * connection is masqueraded, so a pod reaching a Service backed by a pod on the same bridge
 * gets its replies through the host. Conntrack sysctls are left as the machine has them.
 */
export function renderProxyConfig(s: ProxySettings): string {
  return JSON.stringify(
    {
      apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
      kind: "KubeProxyConfiguration",
      mode: "iptables",
      clientConnection: { kubeconfig: s.kubeconfig },
      hostnameOverride: s.nodeName,
      clusterCIDR: CLUSTER_CIDR,
      healthzBindAddress: `127.0.0.1:${s.healthzPort}`,
      metricsBindAddress: `127.0.0.1:${s.metricsPort}`,
      iptables: { masqueradeAll: true },
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
    },
    null,
    2,
  );
}
