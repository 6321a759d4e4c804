/**
 * KubeClient is the operator's one door to the API server for reads and writes outside the
 * informers. Controllers depend on the narrow ports below, never on client-node itself, and every
 * request is counted (reads and writes), which is how the benchmark measures API cost.
 */
import type * as k8s from "@kubernetes/client-node";
import type {
  V1ConfigMap,
  V1Lease,
  V1MutatingWebhookConfiguration,
  V1Pod,
  V1Secret,
  CoreV1Event,
} from "@kubernetes/client-node";
import { rawRequest, type RawRequest } from "./raw";
import { ApiError, isNotFound } from "./errors";
import { callOf, isDeclared } from "./permissions";
import type { LeasePort } from "./leader";
import type { PodCertificateRequest } from "./pod-certificate-request";
import type { ClusterTrustBundle } from "./cluster-trust-bundle";
import { fieldManager } from "../policy/naming";
import { GROUP as group, VERSION as version, PLURAL as plural } from "../../api/v1alpha1/names";
import { MESHCA_PLURAL, type MeshCA } from "../../api/v1alpha1/meshca";

/** SecretPort reads and writes Secrets. */
export interface SecretPort {
  getSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  createSecret(namespace: string, secret: V1Secret): Promise<V1Secret>;
  /** replaceSecret fails with a conflict when secret.metadata.resourceVersion is stale. */
  replaceSecret(namespace: string, secret: V1Secret): Promise<V1Secret>;
  /** deleteSecret deletes only the object with this uid (a precondition), ignoring 404. */
  deleteSecret(namespace: string, name: string, uid?: string): Promise<void>;
}

/** ConfigMapPort reads and writes ConfigMaps. */
export interface ConfigMapPort {
  getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined>;
  createConfigMap(namespace: string, cm: V1ConfigMap): Promise<V1ConfigMap>;
  replaceConfigMap(namespace: string, cm: V1ConfigMap): Promise<V1ConfigMap>;
}

/** EventPort records Kubernetes Events. */
export interface EventPort {
  createEvent(namespace: string, event: CoreV1Event): Promise<void>;
}

/** StatusPort writes MeshIdentity status through the status subresource. */
export interface StatusPort {
  patchMeshIdentityStatus(namespace: string, name: string, status: unknown): Promise<void>;
}

/** MeshCaPort creates the MeshCA object and writes its status. */
export interface MeshCaPort {
  getMeshCa(name: string): Promise<MeshCA | undefined>;
  createMeshCa(ca: MeshCA): Promise<MeshCA>;
  patchMeshCaStatus(name: string, status: unknown): Promise<void>;
}

/** MeshCaRotationPort reads the MeshCA and writes its root rotation state. */
export interface MeshCaRotationPort {
  getMeshCa(name: string): Promise<MeshCA | undefined>;
  /**
   * patchMeshCaRotation merges `rotation` into status.rotation (null deletes a field); it fails
   * with a conflict when the object is no longer at `resourceVersion`.
   */
  patchMeshCaRotation(name: string, rotation: unknown, resourceVersion?: string): Promise<void>;
}

/** WebhookConfigPort reads and patches the MutatingWebhookConfiguration (its caBundle). */
export interface WebhookConfigPort {
  getMutatingWebhookConfiguration(
    name: string,
  ): Promise<V1MutatingWebhookConfiguration | undefined>;
  patchMutatingWebhookConfiguration(name: string, ops: unknown[]): Promise<void>;
}

/** PodPort reads one pod from the API server, past the cache. */
export interface PodPort {
  getPod(namespace: string, name: string): Promise<V1Pod | undefined>;
}

/** PodCertificatePort answers PodCertificateRequests through their status subresource. */
export interface PodCertificatePort {
  /** updatePodCertificateRequestStatus fails with a conflict when the request changed since read. */
  updatePodCertificateRequestStatus(pcr: PodCertificateRequest): Promise<void>;
}

/** ClusterTrustBundlePort reads and writes meshid's signer-linked ClusterTrustBundle. */
export interface ClusterTrustBundlePort {
  getClusterTrustBundle(name: string): Promise<ClusterTrustBundle | undefined>;
  createClusterTrustBundle(ctb: ClusterTrustBundle): Promise<ClusterTrustBundle>;
  replaceClusterTrustBundle(ctb: ClusterTrustBundle): Promise<ClusterTrustBundle>;
}

/** RequestStats counts requests by kind since start. */
export interface RequestStats {
  reads: number;
  writes: number;
}

const enc = encodeURIComponent;

/** KubeClient implements every port with counted JSON requests. */
export class KubeClient
  implements
    SecretPort,
    ConfigMapPort,
    EventPort,
    StatusPort,
    LeasePort,
    WebhookConfigPort,
    MeshCaPort,
    MeshCaRotationPort,
    PodCertificatePort,
    PodPort,
    ClusterTrustBundlePort
{
  readonly stats: RequestStats = { reads: 0, writes: 0 };

  constructor(private readonly kc: k8s.KubeConfig) {}

  private request<T>(req: RawRequest): Promise<T> {
    const call = callOf(req.method, req.path);
    if (!isDeclared(call.verb, call.apiGroup, call.resource)) {
      // A programming error: the RBAC role is generated from operator/kube/permissions.ts.
      return Promise.reject(
        new ApiError(
          undefined,
          "PermissionNotDeclared",
          `${call.verb} ${call.apiGroup || "core"}/${call.resource} is not in operator/kube/permissions.ts`,
        ),
      );
    }
    if (req.method === "GET") this.stats.reads++;
    else this.stats.writes++;
    const sep = req.path.includes("?") ? "&" : "?";
    const path =
      req.method === "GET" || req.method === "DELETE"
        ? req.path
        : `${req.path}${sep}fieldManager=${fieldManager}`;
    return rawRequest<T>(this.kc, { ...req, path });
  }

  private async getOrUndefined<T>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>({ method: "GET", path });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  getSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return this.getOrUndefined(`/api/v1/namespaces/${enc(namespace)}/secrets/${enc(name)}`);
  }

  createSecret(namespace: string, secret: V1Secret): Promise<V1Secret> {
    return this.request({
      method: "POST",
      path: `/api/v1/namespaces/${enc(namespace)}/secrets`,
      body: secret,
    });
  }

  replaceSecret(namespace: string, secret: V1Secret): Promise<V1Secret> {
    const name = secret.metadata?.name ?? "";
    return this.request({
      method: "PUT",
      path: `/api/v1/namespaces/${enc(namespace)}/secrets/${enc(name)}`,
      body: secret,
    });
  }

  async deleteSecret(namespace: string, name: string, uid?: string): Promise<void> {
    try {
      await this.request({
        method: "DELETE",
        path: `/api/v1/namespaces/${enc(namespace)}/secrets/${enc(name)}`,
        body: {
          kind: "DeleteOptions",
          apiVersion: "v1",
          ...(uid ? { preconditions: { uid } } : {}),
        },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined> {
    return this.getOrUndefined(`/api/v1/namespaces/${enc(namespace)}/configmaps/${enc(name)}`);
  }

  createConfigMap(namespace: string, cm: V1ConfigMap): Promise<V1ConfigMap> {
    return this.request({
      method: "POST",
      path: `/api/v1/namespaces/${enc(namespace)}/configmaps`,
      body: cm,
    });
  }

  replaceConfigMap(namespace: string, cm: V1ConfigMap): Promise<V1ConfigMap> {
    const name = cm.metadata?.name ?? "";
    return this.request({
      method: "PUT",
      path: `/api/v1/namespaces/${enc(namespace)}/configmaps/${enc(name)}`,
      body: cm,
    });
  }

  async createEvent(namespace: string, event: CoreV1Event): Promise<void> {
    await this.request({
      method: "POST",
      path: `/api/v1/namespaces/${enc(namespace)}/events`,
      body: event,
    });
  }

  async patchMeshIdentityStatus(namespace: string, name: string, status: unknown): Promise<void> {
    await this.request({
      method: "PATCH",
      path: `/apis/${group}/${version}/namespaces/${enc(namespace)}/${plural}/${enc(name)}/status`,
      body: { status },
      contentType: "application/merge-patch+json",
    });
  }

  getMeshCa(name: string): Promise<MeshCA | undefined> {
    return this.getOrUndefined(`/apis/${group}/${version}/${MESHCA_PLURAL}/${enc(name)}`);
  }

  createMeshCa(ca: MeshCA): Promise<MeshCA> {
    return this.request({
      method: "POST",
      path: `/apis/${group}/${version}/${MESHCA_PLURAL}`,
      body: ca,
    });
  }

  async patchMeshCaStatus(name: string, status: unknown): Promise<void> {
    await this.request({
      method: "PATCH",
      path: `/apis/${group}/${version}/${MESHCA_PLURAL}/${enc(name)}/status`,
      body: { status },
      contentType: "application/merge-patch+json",
    });
  }

  async patchMeshCaRotation(
    name: string,
    rotation: unknown,
    resourceVersion?: string,
  ): Promise<void> {
    await this.request({
      method: "PATCH",
      path: `/apis/${group}/${version}/${MESHCA_PLURAL}/${enc(name)}/status`,
      body: { ...(resourceVersion ? { metadata: { resourceVersion } } : {}), status: { rotation } },
      contentType: "application/merge-patch+json",
    });
  }

  getMutatingWebhookConfiguration(
    name: string,
  ): Promise<V1MutatingWebhookConfiguration | undefined> {
    return this.getOrUndefined(
      `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${enc(name)}`,
    );
  }

  async patchMutatingWebhookConfiguration(name: string, ops: unknown[]): Promise<void> {
    await this.request({
      method: "PATCH",
      path: `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${enc(name)}`,
      body: ops,
      contentType: "application/json-patch+json",
    });
  }

  getPod(namespace: string, name: string): Promise<V1Pod | undefined> {
    return this.getOrUndefined(`/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`);
  }

  async updatePodCertificateRequestStatus(pcr: PodCertificateRequest): Promise<void> {
    const namespace = pcr.metadata?.namespace ?? "";
    const name = pcr.metadata?.name ?? "";
    await this.request({
      method: "PUT",
      path: `/apis/certificates.k8s.io/v1beta1/namespaces/${enc(namespace)}/podcertificaterequests/${enc(name)}/status`,
      body: pcr,
    });
  }

  getClusterTrustBundle(name: string): Promise<ClusterTrustBundle | undefined> {
    return this.getOrUndefined(`${ctbPath}/${enc(name)}`);
  }

  createClusterTrustBundle(ctb: ClusterTrustBundle): Promise<ClusterTrustBundle> {
    return this.request({ method: "POST", path: ctbPath, body: ctb });
  }

  replaceClusterTrustBundle(ctb: ClusterTrustBundle): Promise<ClusterTrustBundle> {
    const name = ctb.metadata?.name ?? "";
    return this.request({ method: "PUT", path: `${ctbPath}/${enc(name)}`, body: ctb });
  }

  /**
   * servesResource tells whether the API server serves a resource (discovery, which every
   * authenticated user may read): Pod Certificates are off by default before Kubernetes 1.37.
   */
  async servesResource(groupVersion: string, resource: string): Promise<boolean> {
    this.stats.reads++;
    try {
      const body = await rawRequest<{ resources?: { name: string }[] }>(this.kc, {
        method: "GET",
        path: `/apis/${groupVersion}`,
      });
      return (body?.resources ?? []).some((r) => r.name === resource);
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async get(namespace: string, name: string): Promise<V1Lease | undefined> {
    const raw = await this.getOrUndefined<V1Lease>(leasePath(namespace, name));
    return raw;
  }

  create(namespace: string, lease: V1Lease): Promise<V1Lease> {
    return this.request({ method: "POST", path: leasePath(namespace), body: leaseWire(lease) });
  }

  replace(namespace: string, name: string, lease: V1Lease): Promise<V1Lease> {
    return this.request({
      method: "PUT",
      path: leasePath(namespace, name),
      body: leaseWire(lease),
    });
  }
}

const ctbPath = "/apis/certificates.k8s.io/v1beta1/clustertrustbundles";

function leasePath(namespace: string, name?: string): string {
  const base = `/apis/coordination.k8s.io/v1/namespaces/${enc(namespace)}/leases`;
  return name ? `${base}/${enc(name)}` : base;
}

/** microTime formats a time as metav1.MicroTime wants it: RFC 3339 with six fractional digits. */
function microTime(t: Date | string | undefined): string | undefined {
  if (t === undefined) return undefined;
  const iso = new Date(t).toISOString(); // 2026-11-28T12:00:00.123Z
  return `${iso.slice(0, 23)}000Z`;
}

function leaseWire(lease: V1Lease): unknown {
  const spec = lease.spec ?? {};
  return {
    ...lease,
    spec: {
      ...spec,
      acquireTime: microTime(spec.acquireTime),
      renewTime: microTime(spec.renewTime),
    },
  };
}
