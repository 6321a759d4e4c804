#!/usr/bin/env bash
# The meshid demo on the local control plane started by `make cluster-up`.
set -euo pipefail
cd "$(dirname "$0")/.."
kubeconfig=$(node_modules/.bin/tsx hack/controlplane/cli.ts status 2>/dev/null | tail -n 1)
export KUBECONFIG=$kubeconfig
step() { printf '\n==> %s\n' "$*"; }
step "kubectl version"
kubectl version
step "kubectl get --raw /readyz"
kubectl get --raw /readyz; echo
step "kubectl get namespaces"
kubectl get namespaces
printf '\nThe control plane keeps running. Use it with:\n  export KUBECONFIG=%s\nStop it with:\n  make cluster-down\n' "$kubeconfig"
