#!/usr/bin/env bash
# Installs what the local node runs on the machine itself, where missing: containerd and runc,
# the CNI plugins, iptables and conntrack (for kube-proxy). Debian/Ubuntu packages through apt;
# needs root, as the node itself does. Does nothing when everything is present.
set -euo pipefail

need=()
command -v containerd >/dev/null || need+=(containerd)
command -v ctr >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] ||
  need+=(containernetworking-plugins)
command -v iptables >/dev/null || need+=(iptables)
command -v conntrack >/dev/null || need+=(conntrack)
[ ${#need[@]} -eq 0 ] && exit 0

mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
if [ "$(id -u)" != 0 ]; then
  echo "install-node-deps: the local node needs root, and these packages: ${need[*]}" >&2
  exit 1
fi
command -v apt-get >/dev/null || {
  echo "install-node-deps: no apt-get: install ${need[*]} with this system's package manager" >&2
  exit 1
}
echo "==> installing ${need[*]} (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
