/** The MeshIdentity API, version v1alpha1: types, schema, CRD, defaults and checks (no I/O). */
export * from "./conditions";
export * from "./crd";
export * from "./defaults";
export * from "./duration";
export * from "./errors";
export * from "./limits";
export * from "./names";
export * from "./patterns";
export * from "./schema";
export * from "./types";
export * from "./validate";
export * from "./meshca";
