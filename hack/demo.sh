#!/usr/bin/env bash
# make demo: meshid end to end on the local control plane started by `make cluster-up`.
# Installs the CRD and RBAC, runs the operator as a local process (the webhook reached through a
# url clientConfig), creates an injection-enabled namespace with a MeshIdentity and three pods,
# and shows what they got. Re-running it starts over in a fresh namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tsx=$root/node_modules/.bin/tsx
state=$root/.tmp/cluster
demo=$state/demo
ns=meshid-demo
webhook_port=${MESHID_DEMO_WEBHOOK_PORT:-19443}
health_port=${MESHID_DEMO_HEALTH_PORT:-18081}
metrics_port=${MESHID_DEMO_METRICS_PORT:-18080}

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf '\ndemo failed: %s\n' "$*" >&2; [ -f "$demo/operator.log" ] && { echo "last operator log lines ($demo/operator.log):" >&2; tail -n 20 "$demo/operator.log" >&2; }; exit 1; }
# wait_for DESCRIPTION SECONDS COMMAND...: retries COMMAND every second until it succeeds.
wait_for() {
  local what=$1 secs=$2; shift 2
  for ((i = 0; i < secs; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  fail "timed out after ${secs}s waiting for $what"
}

kubeconfig=$("$tsx" hack/controlplane/cli.ts status 2>/dev/null | tail -n 1) || fail "no local control plane: run make cluster-up"
export KUBECONFIG=$kubeconfig
mkdir -p "$demo"

step "Installing the MeshIdentity CRD, RBAC and the operator namespace"
kubectl create namespace meshid-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply --server-side -f manifests/crd/ -f manifests/rbac/ >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd/meshidentities.meshid.dev >/dev/null
kubectl get crd meshidentities.meshid.dev

step "Starting the operator as a local process (log: $demo/operator.log)"
if [ -f "$demo/operator.pid" ] && kill -0 "$(cat "$demo/operator.pid")" 2>/dev/null; then
  kill "$(cat "$demo/operator.pid")" && sleep 1
fi
nohup node --import tsx operator/main.ts --kubeconfig="$kubeconfig" --bind-address=127.0.0.1 \
  --health-port="$health_port" --metrics-port="$metrics_port" \
  --webhook-port="$webhook_port" --webhook-cert-ips=127.0.0.1 --leader-elect=false \
  >"$demo/operator.log" 2>&1 &
echo $! >"$demo/operator.pid"
wait_for "the operator's /readyz" 90 curl -fsS "http://127.0.0.1:$health_port/readyz"
echo "operator ready (pid $(cat "$demo/operator.pid")): health http://127.0.0.1:$health_port/readyz, metrics http://127.0.0.1:$metrics_port/metrics"

step "Registering the admission webhook at https://127.0.0.1:$webhook_port/mutate-pods"
sed "s|WEBHOOK_URL|https://127.0.0.1:$webhook_port/mutate-pods|" <<'YAML' | kubectl apply -f - >/dev/null
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: meshid
webhooks:
  - name: pods.meshid.dev
    clientConfig:
      url: WEBHOOK_URL
    rules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
    namespaceSelector:
      matchLabels: {meshid.dev/injection: enabled}
    sideEffects: None
    admissionReviewVersions: [v1]
    failurePolicy: Fail
    timeoutSeconds: 5
YAML
has_ca_bundle() { [ -n "$(kubectl get mutatingwebhookconfiguration meshid -o jsonpath='{.webhooks[0].clientConfig.caBundle}')" ]; }
wait_for "the operator to set the webhook's caBundle" 60 has_ca_bundle
echo "caBundle set by the operator"

step "Creating namespace $ns (injection enabled), MeshIdentity 'payments' and three pods"
kubectl delete namespace "$ns" --ignore-not-found --wait=true --timeout=120s >/dev/null
kubectl create namespace "$ns" >/dev/null
kubectl label namespace "$ns" meshid.dev/injection=enabled >/dev/null
kubectl -n "$ns" create serviceaccount payments >/dev/null
kubectl -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: meshid.dev/v1alpha1
kind: MeshIdentity
metadata:
  name: payments
spec:
  selector:
    matchLabels: {app: payments}
  serviceAccountName: payments
  dnsNames:
    - payments.$ns.svc
    - \$(POD_NAME).payments.$ns.svc.cluster.local
  duration: 24h
YAML
for i in 0 1 2; do
  kubectl -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: payments-$i
  labels: {app: payments}
spec:
  serviceAccountName: payments
  containers:
    - name: app
      image: meshid-demo-app
YAML
done
kubectl -n "$ns" get pods -o wide
echo "(there is no kubelet in the local control plane: pods stay Pending, which is enough to store and mount identities)"

step "Waiting for every pod to hold a certificate"
is_ready() { [ "$(kubectl -n "$ns" get meshidentity payments -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
wait_for "MeshIdentity payments to become Ready" 90 is_ready

step "kubectl get meshidentities -n $ns"
kubectl -n "$ns" get meshidentities

step "The volume the webhook injected into pod payments-0"
kubectl -n "$ns" get pod payments-0 -o jsonpath='annotation meshid.dev/secret: {.metadata.annotations.meshid\.dev/secret}{"\n"}volume: {.spec.volumes[?(@.name=="meshid-identity")]}{"\n"}mount:  {.spec.containers[0].volumeMounts[?(@.name=="meshid-identity")]}{"\n"}'

secret=$(kubectl -n "$ns" get pod payments-0 -o jsonpath='{.metadata.annotations.meshid\.dev/secret}')
step "The certificate in Secret $secret"
kubectl -n "$ns" get secret "$secret" -o jsonpath='{.data.tls\.crt}' | base64 -d | openssl x509 -noout -subject -issuer -ext subjectAltName -startdate -enddate
echo "renew-at: $(kubectl -n "$ns" get secret "$secret" -o jsonpath='{.metadata.annotations.meshid\.dev/renew-at}')"

step "mTLS handshake between the certificates of payments-0 and payments-1"
kubectl -n "$ns" get secret meshid-payments-0 -o json >"$demo/a.json"
kubectl -n "$ns" get secret meshid-payments-1 -o json >"$demo/b.json"
"$tsx" hack/demo-mtls.ts "$demo/a.json" "$demo/b.json"
rm -f "$demo/a.json" "$demo/b.json"

cat <<EOF

Done. The control plane and the operator keep running:
  export KUBECONFIG=$kubeconfig
  kubectl -n $ns get meshidentities,secrets
  tail -f $demo/operator.log
Stop everything with:
  make cluster-down
EOF
