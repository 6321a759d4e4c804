import { callOf, isDeclared } from "./permissions";

describe("callOf", () => {
  it.each([
    ["GET", "/api/v1/namespaces/a/secrets/b", "get", "", "secrets"],
    ["POST", "/api/v1/namespaces/a/secrets", "create", "", "secrets"],
    [
      "PUT",
      "/api/v1/namespaces/a/configmaps/meshid-ca-bundle?fieldManager=x",
      "update",
      "",
      "configmaps",
    ],
    ["DELETE", "/api/v1/namespaces/a/secrets/b", "delete", "", "secrets"],
    [
      "PATCH",
      "/apis/meshid.dev/v1alpha1/namespaces/a/meshidentities/b/status",
      "patch",
      "meshid.dev",
      "meshidentities/status",
    ],
    [
      "PUT",
      "/apis/coordination.k8s.io/v1/namespaces/a/leases/b",
      "update",
      "coordination.k8s.io",
      "leases",
    ],
    [
      "PATCH",
      "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/meshid",
      "patch",
      "admissionregistration.k8s.io",
      "mutatingwebhookconfigurations",
    ],
    ["GET", "/api/v1/pods", "list", "", "pods"],
  ])("%s %s is %s %s/%s", (method, path, verb, apiGroup, resource) => {
    expect(callOf(method, path)).toEqual({ verb, apiGroup, resource });
  });
});

describe("isDeclared", () => {
  it("declares writing Secrets", () => expect(isDeclared("create", "", "secrets")).toBe(true));
  it("does not declare deleting pods", () => expect(isDeclared("delete", "", "pods")).toBe(false));
  it("does not declare writing a MeshIdentity's spec", () =>
    expect(isDeclared("update", "meshid.dev", "meshidentities")).toBe(false));
});
