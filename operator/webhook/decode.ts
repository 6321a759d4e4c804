/**
 * Decoding an AdmissionReview from an untrusted body. Everything the admission logic reads is
 * type-checked here, and only those fields are copied into a fresh object, so no later step can
 * meet a null where it expects an array or walk a structure it did not ask for. A body that does
 * not fit gets a DecodeError naming the first field that is wrong.
 */
import type { V1Container, V1Pod, V1Volume } from "@kubernetes/client-node";
import { MeshIdError } from "../errors";

/** DecodeError is a malformed AdmissionReview: the message names the field. */
export class DecodeError extends MeshIdError {
  constructor(message: string) {
    super("MalformedAdmissionReview", message);
  }
}

/** AdmissionRequest is the validated part of request of an AdmissionReview. */
export interface AdmissionRequest {
  uid: string;
  kind: string;
  operation: string;
  namespace: string;
  dryRun: boolean;
  /** subResource is e.g. "ephemeralcontainers", or "" for the pod itself. */
  subResource: string;
  /** pod is the sanitized pod, decoded for Pod CREATE and ephemeral-container UPDATE requests. */
  pod?: V1Pod;
  /** volumeSecrets names the Secrets the pod's volumes of any type refer to. */
  volumeSecrets: string[];
}

/** maxItems bounds every array and map read from a review; real pods are far smaller. */
const maxItems = 5_000;
/** maxString bounds every string read from a review (annotation values may be long). */
const maxString = 256 * 1024;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function object(v: unknown, path: string): Json {
  if (!isObject(v)) throw new DecodeError(`${path} must be an object`);
  return v;
}

function optObject(v: unknown, path: string): Json | undefined {
  return v === undefined || v === null ? undefined : object(v, path);
}

function str(v: unknown, path: string): string {
  if (typeof v !== "string") throw new DecodeError(`${path} must be a string`);
  if (v.length > maxString) throw new DecodeError(`${path} is longer than ${maxString} characters`);
  return v;
}

function optStr(v: unknown, path: string): string | undefined {
  return v === undefined || v === null ? undefined : str(v, path);
}

/** maxPath bounds a mount path (the kernel's PATH_MAX); longer ones are not paths. */
const maxPath = 4096;

function boundedPath(v: unknown, path: string): string {
  const text = optStr(v, path) ?? "";
  if (text.length > maxPath) throw new DecodeError(`${path} is longer than ${maxPath} characters`);
  return text;
}

function array(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new DecodeError(`${path} must be an array`);
  if (v.length > maxItems) throw new DecodeError(`${path} has more than ${maxItems} items`);
  return v;
}

function optArray(v: unknown, path: string): unknown[] | undefined {
  return v === undefined || v === null ? undefined : array(v, path);
}

function stringMap(v: unknown, path: string): Record<string, string> | undefined {
  const o = optObject(v, path);
  if (!o) return undefined;
  const entries = Object.entries(o);
  if (entries.length > maxItems) throw new DecodeError(`${path} has more than ${maxItems} keys`);
  const out: Record<string, string> = {};
  for (const [k, value] of entries) out[k] = str(value, `${path}[${JSON.stringify(k)}]`);
  return out;
}

function volume(v: unknown, path: string): V1Volume {
  const o = object(v, path);
  const out: V1Volume = { name: str(o.name, `${path}.name`) };
  const secret = optObject(o.secret, `${path}.secret`);
  if (secret) {
    const secretName = optStr(secret.secretName, `${path}.secret.secretName`);
    out.secret = secretName === undefined ? {} : { secretName };
  }
  const projected = optObject(o.projected, `${path}.projected`);
  if (projected) {
    const sources = optArray(projected.sources, `${path}.projected.sources`) ?? [];
    out.projected = {
      sources: sources.map((s, i) => {
        const src = object(s, `${path}.projected.sources[${i}]`);
        const sec = optObject(src.secret, `${path}.projected.sources[${i}].secret`);
        if (!sec) return {};
        const name = optStr(sec.name, `${path}.projected.sources[${i}].secret.name`);
        return { secret: name === undefined ? {} : { name } };
      }),
    };
  }
  return out;
}

/** secretRefs reads the Secret names a container's environment draws on. */
function environment(o: Json, path: string): Pick<V1Container, "env" | "envFrom"> {
  const out: Pick<V1Container, "env" | "envFrom"> = {};
  const env = optArray(o.env, `${path}.env`);
  if (env)
    out.env = env.map((e, i) => {
      const entry = object(e, `${path}.env[${i}]`);
      const from = optObject(entry.valueFrom, `${path}.env[${i}].valueFrom`);
      const ref = optObject(from?.secretKeyRef, `${path}.env[${i}].valueFrom.secretKeyRef`);
      const name = optStr(ref?.name, `${path}.env[${i}].valueFrom.secretKeyRef.name`);
      return {
        name: optStr(entry.name, `${path}.env[${i}].name`) ?? "",
        ...(ref ? { valueFrom: { secretKeyRef: { name: name ?? "", key: "" } } } : {}),
      };
    });
  const envFrom = optArray(o.envFrom, `${path}.envFrom`);
  if (envFrom)
    out.envFrom = envFrom.map((e, i) => {
      const entry = object(e, `${path}.envFrom[${i}]`);
      const ref = optObject(entry.secretRef, `${path}.envFrom[${i}].secretRef`);
      const name = optStr(ref?.name, `${path}.envFrom[${i}].secretRef.name`);
      return ref ? { secretRef: { name: name ?? "" } } : {};
    });
  return out;
}

function container(v: unknown, path: string): V1Container {
  const o = object(v, path);
  const out: V1Container = {
    name: optStr(o.name, `${path}.name`) ?? "",
    ...environment(o, path),
  };
  const mounts = optArray(o.volumeMounts, `${path}.volumeMounts`);
  if (mounts) {
    out.volumeMounts = mounts.map((m, i) => {
      const mount = object(m, `${path}.volumeMounts[${i}]`);
      return {
        name: optStr(mount.name, `${path}.volumeMounts[${i}].name`) ?? "",
        mountPath: boundedPath(mount.mountPath, `${path}.volumeMounts[${i}].mountPath`),
      };
    });
  }
  return out;
}

/** secretReferenceKeys are the fields through which a volume source names a Secret. */
const secretReferenceKeys = new Set([
  "secretRef",
  "nodePublishSecretRef",
  "controllerPublishSecretRef",
]);

/**
 * volumeSecretReferences lists the Secret names any volume source refers to (csi, azureFile,
 * cephfs, rbd, flexVolume, iscsi, scaleIO, storageos, and any later one shaped the same way:
 * a `secretName` string or a `*SecretRef`/`secretRef` object with a name).
 */
function volumeSecretReferences(spec: unknown): string[] {
  if (!isObject(spec) || !Array.isArray(spec.volumes)) return [];
  const names: string[] = [];
  for (const v of spec.volumes.slice(0, maxItems)) {
    if (!isObject(v)) continue;
    for (const [kind, source] of Object.entries(v).slice(0, 64)) {
      if (kind === "name" || !isObject(source)) continue;
      for (const [key, value] of Object.entries(source).slice(0, 64)) {
        if (key === "secretName" && typeof value === "string") names.push(value);
        if (secretReferenceKeys.has(key) && isObject(value) && typeof value.name === "string")
          names.push(value.name);
      }
    }
  }
  return names;
}

/** decodePod copies the fields admission reads from an untrusted pod object. */
function decodePod(v: unknown, path = "request.object"): V1Pod {
  const o = object(v, path);
  const meta = optObject(o.metadata, `${path}.metadata`) ?? {};
  const spec = object(o.spec, `${path}.spec`);
  const containers = array(spec.containers, `${path}.spec.containers`);
  if (containers.length === 0) throw new DecodeError(`${path}.spec.containers is empty`);
  const initContainers = optArray(spec.initContainers, `${path}.spec.initContainers`);
  const ephemeral = optArray(spec.ephemeralContainers, `${path}.spec.ephemeralContainers`);
  const volumes = optArray(spec.volumes, `${path}.spec.volumes`);
  const name = optStr(meta.name, `${path}.metadata.name`);
  const generateName = optStr(meta.generateName, `${path}.metadata.generateName`);
  const namespace = optStr(meta.namespace, `${path}.metadata.namespace`);
  const labels = stringMap(meta.labels, `${path}.metadata.labels`);
  const annotations = stringMap(meta.annotations, `${path}.metadata.annotations`);
  const serviceAccountName = optStr(spec.serviceAccountName, `${path}.spec.serviceAccountName`);
  const serviceAccount = optStr(spec.serviceAccount, `${path}.spec.serviceAccount`);
  return {
    metadata: {
      ...(name ? { name } : {}),
      ...(generateName ? { generateName } : {}),
      ...(namespace ? { namespace } : {}),
      ...(labels ? { labels } : {}),
      ...(annotations ? { annotations } : {}),
    },
    spec: {
      ...(serviceAccountName ? { serviceAccountName } : {}),
      ...(serviceAccount ? { serviceAccount } : {}),
      containers: containers.map((c, i) => container(c, `${path}.spec.containers[${i}]`)),
      ...(initContainers
        ? {
            initContainers: initContainers.map((c, i) =>
              container(c, `${path}.spec.initContainers[${i}]`),
            ),
          }
        : {}),
      ...(volumes
        ? { volumes: volumes.map((v, i) => volume(v, `${path}.spec.volumes[${i}]`)) }
        : {}),
      ...(ephemeral
        ? {
            ephemeralContainers: ephemeral.map((c, i) =>
              container(c, `${path}.spec.ephemeralContainers[${i}]`),
            ),
          }
        : {}),
    },
  };
}

/**
 * decodeAdmissionReview validates an AdmissionReview (admission.k8s.io/v1) and returns its
 * request; the pod is decoded for Pod CREATE (injection and refusal) and for an UPDATE of its
 * ephemeral containers (`kubectl debug`, refusal only).
 */
export function decodeAdmissionReview(body: unknown): AdmissionRequest {
  const review = object(body, "the body");
  if (review.apiVersion !== "admission.k8s.io/v1" || review.kind !== "AdmissionReview")
    throw new DecodeError("expected kind AdmissionReview, apiVersion admission.k8s.io/v1");
  const req = object(review.request, "request");
  const uid = str(req.uid, "request.uid");
  if (uid === "" || uid.length > 128) throw new DecodeError("request.uid must be 1-128 characters");
  const kind = optStr(optObject(req.kind, "request.kind")?.kind, "request.kind.kind") ?? "";
  const operation = optStr(req.operation, "request.operation") ?? "";
  const namespace = optStr(req.namespace, "request.namespace") ?? "";
  if (req.dryRun !== undefined && req.dryRun !== null && typeof req.dryRun !== "boolean")
    throw new DecodeError("request.dryRun must be a boolean");
  const subResource = optStr(req.subResource, "request.subResource") ?? "";
  const dryRun = req.dryRun === true;
  const out: AdmissionRequest = {
    ...{ uid, kind, operation, namespace, dryRun, subResource },
    volumeSecrets: [],
  };
  const creating = operation === "CREATE" && subResource === "";
  const debugging = operation === "UPDATE" && subResource === "ephemeralcontainers";
  if (kind === "Pod" && (creating || debugging)) {
    out.pod = decodePod(req.object);
    // decodePod has checked that object and spec are objects; read the references from them.
    out.volumeSecrets = volumeSecretReferences((req.object as { spec?: unknown }).spec);
  }
  return out;
}
