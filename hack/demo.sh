#!/usr/bin/env bash
# make demo: meshid end to end on the local cluster started by `make cluster-up` (a control plane
# and one node running containerd). Installs meshid as a user would, with
# `kubectl apply -k manifests/default` (the operator image is built here and imported into the
# node), then runs a two-replica workload that uses its mounted identity for mTLS, and shows a
# renewal reaching the running pods. Re-running it starts over in a fresh namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tsx=$root/node_modules/.bin/tsx
ns=meshid-demo
t0=$(date +%s)

step() { printf '\n\033[1m==> [%3ds] %s\033[0m\n' "$(($(date +%s) - t0))" "$*"; }
fail() {
  printf '\ndemo failed: %s\n' "$*" >&2
  kubectl -n meshid-system logs deploy/meshid-operator --tail=20 >&2 2>/dev/null || true
  exit 1
}
# wait_for DESCRIPTION SECONDS COMMAND...: retries COMMAND every second until it succeeds.
wait_for() {
  local what=$1 secs=$2
  shift 2
  for ((i = 0; i < secs; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  fail "timed out after ${secs}s waiting for $what"
}

kubeconfig=$("$tsx" hack/controlplane/cli.ts status 2>/dev/null | tail -n 1) || fail "no local cluster: run make cluster-up"
export KUBECONFIG=$kubeconfig
kubectl get node -o name 2>/dev/null | grep -q . || fail "the local cluster has no node: run make cluster-down && make cluster-up (without NODE=0)"

step "The local cluster: one node running containerd"
kubectl get nodes -o wide

step "Installing meshid: kubectl apply -k manifests/default"
kubectl apply -k manifests/default
kubectl -n meshid-system rollout status deployment/meshid-operator --timeout=180s
kubectl -n meshid-system get pods -o wide
has_ca_bundle() { [ -n "$(kubectl get mutatingwebhookconfiguration meshid -o jsonpath='{.webhooks[0].clientConfig.caBundle}')" ]; }
wait_for "the operator to set the webhook's caBundle" 60 has_ca_bundle
echo "webhook: service meshid-system/meshid-webhook, endpoints $(kubectl -n meshid-system get endpointslices -l kubernetes.io/service-name=meshid-webhook -o jsonpath='{.items[*].endpoints[*].addresses[*]}')"

step "Namespace $ns (injection enabled), MeshIdentity 'payments', Service and a two-replica Deployment"
kubectl delete namespace "$ns" --ignore-not-found --wait=true --timeout=120s >/dev/null
kubectl create namespace "$ns" >/dev/null
kubectl label namespace "$ns" meshid.dev/injection=enabled >/dev/null
kubectl -n "$ns" create serviceaccount payments >/dev/null
kubectl -n "$ns" apply -f - <<YAML
apiVersion: meshid.dev/v1alpha1
kind: MeshIdentity
metadata:
  name: payments
spec:
  selector:
    matchLabels: {app: payments}
  serviceAccountName: payments
  dnsNames: [payments.$ns.svc]
  # Short, so the demo sees a scheduled renewal: each certificate renews within a minute.
  duration: 10m
  renewBefore: 9m
---
apiVersion: v1
kind: Service
metadata:
  name: payments
spec:
  selector: {app: payments}
  ports: [{name: mtls, port: 8443, targetPort: 8443}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments
spec:
  replicas: 2
  selector:
    matchLabels: {app: payments}
  template:
    metadata:
      labels: {app: payments}
    spec:
      serviceAccountName: payments
      securityContext: {fsGroup: 2000}
      containers:
        - name: app
          image: meshid-workload:latest
          imagePullPolicy: Never
          # Each replica dials the Service (so either replica) every second over mTLS.
          args: ["-peer=\$(PAYMENTS_SERVICE_HOST):\$(PAYMENTS_SERVICE_PORT)", "-interval=1s"]
YAML
kubectl -n "$ns" rollout status deployment/payments --timeout=120s

step "Pods Running on the node"
kubectl -n "$ns" get pods -o wide
pods=$(kubectl -n "$ns" get pods -l app=payments -o jsonpath='{.items[*].metadata.name}')
first=${pods%% *}

step "The mounted identity, listed from inside container $first (mode, uid, gid, size)"
kubectl -n "$ns" exec "$first" -- /workload -ls /var/run/secrets/meshid.dev

step "Handshakes from the pods' logs"
handshakes() { kubectl -n "$ns" logs "$1" | grep -c 'handshake .*result=ok' || true; }
wait_for "handshakes in every pod" 60 bash -c "for p in $pods; do kubectl -n $ns logs \$p | grep -q 'result=ok' || exit 1; done"
for p in $pods; do
  echo "--- $p"
  kubectl -n "$ns" logs "$p" | grep -E 'loaded identity|handshake' | head -n 4
done

step "kubectl get mid -n $ns"
kubectl -n "$ns" get mid

step "Renewal: each certificate lives 10m and renews 9m before expiry (less up to 10% jitter), within a minute of issuance"
declare -A before
for p in $pods; do
  before[$p]=$(kubectl -n "$ns" logs "$p" | grep -c 'loaded identity' || true)
done
renewed() {
  local p
  for p in $pods; do
    [ "$(kubectl -n "$ns" logs "$p" | grep -c 'loaded identity')" -gt "${before[$p]}" ] || return 1
  done
}
wait_for "a renewal seen from inside every pod" 150 renewed
sleep 3 # a few handshakes with the newest certificate
failed=0
for p in $pods; do
  echo "--- $p"
  kubectl -n "$ns" logs "$p" | grep 'loaded identity'
  kubectl -n "$ns" logs "$p" | grep 'handshake' | tail -n 2
  n=$(kubectl -n "$ns" logs "$p" | grep -c 'result=fail' || true)
  echo "handshakes ok: $(handshakes "$p"), failed: $n"
  failed=$((failed + n))
done
kubectl -n "$ns" get mid
[ "$failed" = 0 ] || fail "$failed failed handshakes"
step "Done in $(($(date +%s) - t0)) s: renewals reached the running pods with 0 failed handshakes"

cat <<EOF

The cluster keeps running:
  export KUBECONFIG=$kubeconfig
  kubectl -n $ns logs -f deploy/payments
  kubectl -n meshid-system logs -f deploy/meshid-operator
Stop everything with:
  make cluster-down
EOF
