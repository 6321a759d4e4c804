#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and etcd for the local control plane from the Go
# module proxy, through the wrapper modules beside this script, and caches them by version outside
# the work tree. A cache hit returns in well under a second; a cold build takes many minutes.
#
#   build.sh          the control plane, into <cache>/<version>
#   build.sh node     kubelet, kube-scheduler and kube-proxy for the local node, into
#                     <cache>/<version>-node, from their own wrapper module (hack/testbin/node), so
#                     neither set's stamp depends on the other
#
# Env: KUBE_VERSION (see versions.env), MESHID_TESTBIN_DIR (default ~/.cache/meshid/testbin).
# Prints the directory holding the binaries as its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

fail() { echo "build-testbin: $*" >&2; exit 1; }
step() { printf '==> [%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

command -v go >/dev/null || fail "Go is not installed. Install Go >= 1.26 and put it on PATH (the local control plane is built from source)."
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
[ "$go_minor" -ge 26 ] 2>/dev/null || fail "Go $(go env GOVERSION) is too old: need Go >= 1.26 (the wrapper modules' go lines ask for it)."

set_name=${1:-controlplane}
case "$set_name" in
  controlplane) modules=(kube etcd) bins=(kube-apiserver kube-controller-manager etcd) suffix="" ;;
  node) modules=(node) bins=(kubelet kube-scheduler kube-proxy) suffix="-node" ;;
  *) fail "unknown set '$set_name': use no argument (control plane) or 'node'" ;;
esac

for m in kube node; do
  wrapped=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3}' "$here/$m/go.mod")
  [ "$wrapped" = "$KUBE_VERSION" ] ||
    fail "KUBE_VERSION=$KUBE_VERSION but hack/testbin/$m/go.mod wraps $wrapped: run hack/testbin/gen-wrappers.sh $KUBE_VERSION first."
done
etcd_version=$(awk '$1 == "require" && $2 == "go.etcd.io/etcd/server/v3" {print $3}' "$here/etcd/go.mod")

cache_root=${MESHID_TESTBIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/meshid/testbin}
out="$cache_root/$KUBE_VERSION$suffix"
# The stamp ties the cached binaries to the exact wrapper modules that made them.
stamp_files=()
for m in "${modules[@]}"; do stamp_files+=("$here/$m/go.sum"); done
for m in "${modules[@]}"; do stamp_files+=("$here/$m/go.mod"); done
stamp=$(cat "${stamp_files[@]}" | sha256sum | cut -c1-16)

cached=1
for b in "${bins[@]}"; do [ -x "$out/$b" ] || cached=0; done
if [ "$cached" = 1 ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
  step "cache hit: Kubernetes $KUBE_VERSION (${bins[*]}) in $out"
  echo "$out"
  exit 0
fi

# A cold build needs about 4 GB of module and build caches plus 300 MB of binaries.
need_kb=$((5 * 1024 * 1024))
for dir in "$(go env GOMODCACHE)" "$(go env GOCACHE)" "$cache_root"; do
  mkdir -p "$dir"
  avail=$(df -Pk "$dir" | awk 'NR == 2 {print $4}')
  [ "$avail" -ge "$need_kb" ] ||
    fail "not enough disk space in $dir: $((avail / 1024)) MB free, a cold build needs about $((need_kb / 1024)) MB."
done

if [ "$set_name" = node ]; then
  step "building Kubernetes $KUBE_VERSION ${bins[*]} into $out (cold build: about 5 minutes on 2 cores after the control plane's)"
else
  step "building Kubernetes $KUBE_VERSION and etcd $etcd_version into $out (cold build: 10-30 minutes on 2 cores)"
fi
start=$(date +%s)
tmp="$out.partial.$$"
rm -rf "$tmp" && mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION"
ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
ldflags+=" -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"

build() { # dir package output
  local t0=$(date +%s)
  step "downloading modules for $2"
  (cd "$here/$1" && go mod download) || fail "could not download the modules of hack/testbin/$1 from the Go module proxy (see the error above)."
  step "compiling $3"
  (cd "$here/$1" && go build -trimpath -pgo=off -ldflags "$ldflags" -o "$tmp/$3" "$2") ||
    fail "go build of $2 failed (see the error above)."
  step "built $3 in $(($(date +%s) - t0)) s ($(du -h "$tmp/$3" | cut -f1))"
}
if [ "$set_name" = node ]; then
  for b in "${bins[@]}"; do build node "k8s.io/kubernetes/cmd/$b" "$b"; done
  "$tmp/kubelet" --version >&2
else
  build etcd go.etcd.io/etcd/server/v3 etcd
  build kube k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver
  build kube k8s.io/kubernetes/cmd/kube-controller-manager kube-controller-manager
  "$tmp/kube-apiserver" --version >&2
fi
echo "$stamp" >"$tmp/.stamp"
rm -rf "$out" && mv "$tmp" "$out"
trap - EXIT
step "done in $(($(date +%s) - start)) s"
echo "$out"
