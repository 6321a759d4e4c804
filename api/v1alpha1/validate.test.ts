import { Reason } from "./conditions";
import { TemplateError } from "./errors";
import {
  dnsNameAllowed,
  isValidDnsName,
  renderDnsName,
  resolvePodDnsNames,
  type TemplateValues,
} from "./validate";

const pod: TemplateValues = {
  POD_NAME: "payments-7d9f-abc12",
  POD_NAMESPACE: "shop",
  SERVICE_ACCOUNT: "payments",
};

describe("renderDnsName", () => {
  it.each<[string, string, string]>([
    ["leaves a name without variables unchanged", "payments.shop.svc", "payments.shop.svc"],
    [
      "renders the pod name",
      "$(POD_NAME).payments.shop.svc",
      "payments-7d9f-abc12.payments.shop.svc",
    ],
    ["renders the namespace", "payments.$(POD_NAMESPACE).svc", "payments.shop.svc"],
    ["renders the service account", "$(SERVICE_ACCOUNT).shop.svc", "payments.shop.svc"],
    [
      "renders several variables in one name",
      "$(POD_NAME).$(SERVICE_ACCOUNT).$(POD_NAMESPACE).svc",
      "payments-7d9f-abc12.payments.shop.svc",
    ],
    [
      "renders a variable inside a label",
      "api-$(SERVICE_ACCOUNT)-v1.shop.svc",
      "api-payments-v1.shop.svc",
    ],
    ["renders a variable used twice", "$(POD_NAMESPACE).$(POD_NAMESPACE).svc", "shop.shop.svc"],
    ["keeps a wildcard first label", "*.$(POD_NAMESPACE).svc", "*.shop.svc"],
    ["leaves a lone dollar sign for the DNS check to refuse", "a$b.shop.svc", "a$b.shop.svc"],
  ])("%s", (_name, template, expected) => {
    expect(renderDnsName(template, pod)).toBe(expected);
  });

  it("never expands a variable's value again", () => {
    const tricky = { ...pod, POD_NAME: "$(POD_NAMESPACE)" };
    expect(renderDnsName("$(POD_NAME).x", tricky)).toBe("$(POD_NAMESPACE).x");
  });

  it.each<[string, string, string]>([
    ["refuses an unknown variable", "$(NODE_NAME).shop.svc", "NODE_NAME"],
    ["refuses a lower-case variable name", "$(pod_name).shop.svc", "pod_name"],
    ["refuses an empty variable", "$().shop.svc", ""],
  ])("%s, naming it", (_name, template, variable) => {
    let err: unknown;
    try {
      renderDnsName(template, pod);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect(err).toMatchObject({ variable, code: "TemplateVariableUnknown", retryable: false });
  });
});

describe("isValidDnsName", () => {
  it.each<[string, string, boolean]>([
    ["accepts a service name", "payments.shop.svc", true],
    ["accepts a fully qualified service name", "payments.shop.svc.cluster.local", true],
    ["accepts a single label", "localhost", true],
    ["accepts labels starting with a digit", "0x.1a.svc", true],
    ["accepts a wildcard first label", "*.shop.svc", true],
    ["accepts a label of 63 characters", `${"a".repeat(63)}.shop.svc`, true],
    ["accepts a name of 253 characters", `${"a.".repeat(126)}a`, true],
    ["refuses the empty string", "", false],
    ["refuses upper case", "Payments.shop.svc", false],
    ["refuses a trailing dot", "payments.shop.svc.", false],
    ["refuses an empty label", "payments..svc", false],
    ["refuses a label starting with a hyphen", "-payments.shop.svc", false],
    ["refuses a label ending with a hyphen", "payments-.shop.svc", false],
    ["refuses an underscore", "pay_ments.shop.svc", false],
    ["refuses a label of 64 characters", `${"a".repeat(64)}.shop.svc`, false],
    ["refuses a name of 255 characters", `${"a.".repeat(127)}a`, false],
    ["refuses a wildcard that is not the first label", "payments.*.svc", false],
    ["refuses a wildcard inside the first label", "pay*.shop.svc", false],
    ["refuses a bare wildcard", "*", false],
    ["refuses two wildcards", "*.*.shop.svc", false],
    ["refuses an unrendered template", "$(POD_NAME).shop.svc", false],
  ])("%s (%s)", (_name, name, expected) => {
    expect(isValidDnsName(name)).toBe(expected);
  });
});

describe("dnsNameAllowed", () => {
  it.each<[string, string, string, string[], boolean]>([
    ["allows a service in the namespace, short form", "payments.shop.svc", "shop", [], true],
    [
      "allows a service in the namespace, with the cluster domain",
      "payments.shop.svc.cluster.local",
      "shop",
      [],
      true,
    ],
    [
      "allows a name below a service (a headless service's pod)",
      "x.payments.shop.svc.cluster.local",
      "shop",
      [],
      true,
    ],
    ["allows a wildcard over the namespace's services", "*.shop.svc", "shop", [], true],
    [
      "allows a wildcard over the namespace's services, with the cluster domain",
      "*.shop.svc.cluster.local",
      "shop",
      [],
      true,
    ],
    ["compares without regard to case", "Payments.SHOP.svc", "shop", [], true],
    ["refuses the namespace's domain apex, which names no service", "shop.svc", "shop", [], false],
    [
      "refuses the domain apex with the cluster domain",
      "shop.svc.cluster.local",
      "shop",
      [],
      false,
    ],
    ["refuses a service of another namespace", "payments.bank.svc", "shop", [], false],
    [
      "refuses a namespace whose name merely ends like the pod's",
      "payments.myshop.svc",
      "shop",
      [],
      false,
    ],
    [
      "refuses a namespace whose name merely starts like the pod's",
      "payments.shop2.svc.cluster.local",
      "shop",
      [],
      false,
    ],
    ["refuses another cluster domain", "payments.shop.svc.example.org", "shop", [], false],
    ["refuses the search-path alias <service>.<namespace>", "payments.shop", "shop", [], false],
    ["refuses a bare service name", "payments", "shop", [], false],
    ["refuses a pod DNS record", "10-0-0-1.shop.pod.cluster.local", "shop", [], false],
    ["refuses a wildcard over every namespace", "*.svc", "shop", [], false],
    ["refuses a wildcard over the cluster domain", "*.svc.cluster.local", "shop", [], false],
    ["refuses a public name", "payments.example.com", "shop", [], false],
    ["refuses a name with a trailing dot", "payments.shop.svc.", "shop", [], false],
    ["refuses an invalid name even inside the namespace", "pay_ments.shop.svc", "shop", [], false],
    [
      "allows a name below an extra suffix",
      "payments.mesh.example.com",
      "shop",
      ["mesh.example.com"],
      true,
    ],
    [
      "allows the extra suffix itself, as an X.509 name constraint would",
      "mesh.example.com",
      "shop",
      ["mesh.example.com"],
      true,
    ],
    [
      "allows a wildcard below an extra suffix",
      "*.mesh.example.com",
      "shop",
      ["mesh.example.com"],
      true,
    ],
    [
      "ignores a leading dot on an extra suffix",
      "a.mesh.example.com",
      "shop",
      [".mesh.example.com"],
      true,
    ],
    [
      "ignores a leading wildcard on an extra suffix",
      "a.mesh.example.com",
      "shop",
      ["*.mesh.example.com"],
      true,
    ],
    [
      "refuses a name that merely ends like an extra suffix",
      "evilmesh.example.com",
      "shop",
      ["mesh.example.com"],
      false,
    ],
    ["refuses a name above an extra suffix", "example.com", "shop", ["mesh.example.com"], false],
    ["lets an empty extra suffix allow nothing", "payments.example.com", "shop", [""], false],
  ])("%s (%s)", (_name, name, namespace, suffixes, expected) => {
    expect(dnsNameAllowed(name, namespace, "cluster.local", suffixes)).toBe(expected);
  });

  it("accepts a cluster domain written with a trailing dot", () => {
    expect(dnsNameAllowed("a.shop.svc.cluster.local", "shop", "cluster.local.", [])).toBe(true);
  });

  it("allows only the short form when the cluster domain is empty", () => {
    expect(dnsNameAllowed("a.shop.svc", "shop", "", [])).toBe(true);
    expect(dnsNameAllowed("a.shop.svc.cluster.local", "shop", "", [])).toBe(false);
  });
});

describe("resolvePodDnsNames", () => {
  const policy = { clusterDomain: "cluster.local", extraSuffixes: ["mesh.example.com"] };

  it("renders every template and removes duplicates, in order", () => {
    const result = resolvePodDnsNames(
      [
        "$(POD_NAME).payments.$(POD_NAMESPACE).svc.cluster.local",
        "payments.$(POD_NAMESPACE).svc",
        "$(SERVICE_ACCOUNT).shop.svc",
        "payments.mesh.example.com",
      ],
      pod,
      policy,
    );
    expect(result).toEqual({
      ok: true,
      names: [
        "payments-7d9f-abc12.payments.shop.svc.cluster.local",
        "payments.shop.svc",
        "payments.mesh.example.com",
      ],
    });
  });

  it("returns no names for no templates", () => {
    expect(resolvePodDnsNames([], pod, policy)).toEqual({ ok: true, names: [] });
  });

  it.each<[string, string[], string, string]>([
    [
      "reports an unknown variable as an invalid name",
      ["$(NODE_NAME).shop.svc"],
      Reason.DNSNameInvalid,
      "NODE_NAME",
    ],
    [
      "reports a rendered label over 63 characters as an invalid name",
      [`$(POD_NAME)${"x".repeat(50)}.shop.svc`],
      Reason.DNSNameInvalid,
      "not a valid DNS name",
    ],
    [
      "reports a rendered name with an empty label as an invalid name",
      ["$(POD_NAME)..svc"],
      Reason.DNSNameInvalid,
      "not a valid DNS name",
    ],
    [
      "reports a name in another namespace as not allowed",
      ["payments.bank.svc"],
      Reason.DNSNameNotAllowed,
      "outside namespace shop's service domain",
    ],
    [
      "reports the first failure only",
      ["ok.shop.svc", "x.bank.svc", "$(NOPE)"],
      Reason.DNSNameNotAllowed,
      "x.bank.svc",
    ],
  ])("%s", (_name, templates, reason, text) => {
    const result = resolvePodDnsNames(templates, pod, policy);
    expect(result).toMatchObject({ ok: false, reason });
    expect(result.ok ? "" : result.message).toContain(text);
  });
});
