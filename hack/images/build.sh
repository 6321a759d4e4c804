#!/usr/bin/env bash
# Builds the local node's images without a registry or a Docker engine and writes them as docker
# archives for `ctr images import`:
#
#   meshid-pause:local        the pod sandbox (cmd/pause)
#   meshid-workload:latest    the test and demo workload that uses its identity (cmd/workload)
#   meshid-operator:latest    meshid itself, as the Dockerfile builds it: the Node.js runtime,
#                             compiled dist/api and dist/operator, production node_modules,
#                             user 65532, the Dockerfile's ENTRYPOINT (node dist/operator/main.js) in /app
#
# The operator image takes this machine's `node` binary and the shared libraries it links
# (ldd), since only npm, Debian and Go packages can be fetched here. Each archive is cached under
# MESHID_IMAGES_DIR (default ~/.cache/meshid/images) by a hash of what went into it.
#
# Usage: hack/images/build.sh [pause|workload|operator]...   (default: all three)
# Prints one archive path per line, in the order asked.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

fail() { echo "build-images: $*" >&2; exit 1; }
step() { printf '==> [%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

cache=${MESHID_IMAGES_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/meshid/images}
mkdir -p "$cache/bin"
command -v go >/dev/null || fail "Go is not installed (need Go >= 1.26 on PATH)"

# The Go tools are rebuilt each time (Go's build cache makes that a second or two).
(cd "$here" && go build -trimpath -ldflags "-s -w" -o "$cache/bin/" ./cmd/...) ||
  fail "go build of hack/images failed (see above)"
imgpack=$cache/bin/imgpack

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# pack NAME TAG ROOTFS ARGS...: archive of ROOTFS as TAG, cached as NAME-<hash of its inputs>.
pack() {
  local name=$1 tag=$2 rootfs=$3 key=$4
  shift 4
  local out="$cache/$name-$key.tar"
  if [ ! -f "$out" ]; then
    step "packing $tag"
    "$imgpack" -root "$rootfs" -tag "$tag" -o "$out.partial" "$@" || fail "imgpack $tag failed"
    # One archive per image is enough: an older build is never imported again.
    rm -f "$cache/$name-"*.tar
    mv "$out.partial" "$out"
  fi
  echo "$out"
}

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT

# A passwd and group naming the non-root user every image but pause runs as.
etc_files() {
  mkdir -p "$1/etc" "$1/tmp"
  chmod 1777 "$1/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$1/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$1/etc/group"
}

build_pause() {
  local r=$staging/pause
  mkdir -p "$r"
  cp "$cache/bin/pause" "$r/pause"
  pack pause meshid-pause:local "$r" "$(hash_of "$r/pause")" -entrypoint '["/pause"]'
}

build_workload() {
  local r=$staging/workload
  mkdir -p "$r"
  etc_files "$r"
  cp "$cache/bin/workload" "$r/workload"
  pack workload meshid-workload:latest "$r" "$(hash_of "$r/workload")" \
    -entrypoint '["/workload"]' -user 65532:65532 -port 8443/tcp
}

# node_runtime DIR: the node binary at /usr/local/bin/node and every library it loads.
node_runtime() {
  local node_bin lib
  node_bin=$(readlink -f "$(command -v node)") || fail "node is not installed"
  mkdir -p "$1/usr/local/bin"
  cp "$node_bin" "$1/usr/local/bin/node"
  for lib in $(ldd "$node_bin" | awk '/=> \// {print $3} /^[ \t]*\/.*ld-linux/ {print $1}'); do
    mkdir -p "$1$(dirname "$lib")"
    cp -L "$lib" "$1$lib"
  done
}

build_operator() {
  local r=$staging/operator key modules
  # Production dependencies, cached by the lock file (npm's ordinary client and cache).
  modules="$cache/node-modules-$(hash_of "$root/package-lock.json" "$root/package.json")"
  if [ ! -d "$modules/node_modules" ]; then
    step "installing production node_modules (npm ci --omit=dev)"
    local partial="$cache/partial-modules"
    rm -rf "$partial" && mkdir -p "$partial"
    cp "$root/package.json" "$root/package-lock.json" "$partial/"
    (cd "$partial" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund >&2) ||
      fail "npm ci --omit=dev failed"
    # Only the current lock file's dependencies are kept.
    rm -rf "$cache"/node-modules-* && mv "$partial" "$modules"
  fi
  step "compiling the operator (npm run build)"
  (cd "$root" && rm -rf dist && npm run --silent build >&2) || fail "npm run build failed"
  mkdir -p "$r/app/dist"
  etc_files "$r"
  node_runtime "$r"
  cp "$root/package.json" "$r/app/"
  cp -r "$modules/node_modules" "$r/app/node_modules"
  cp -r "$root/dist/api" "$root/dist/operator" "$r/app/dist/"
  # The runtime must start from the image's own files alone (no library from this machine).
  if [ "$(id -u)" = 0 ]; then
    env -i "$(command -v chroot)" "$r" /usr/local/bin/node -e 'require("/app/dist/operator/config.js")' >&2 ||
      fail "node does not start inside the operator image's filesystem"
  fi
  # Files stay root-owned and read-only to user 65532, as in the Dockerfile's final stage.
  chmod -R go-w "$r"
  chmod 1777 "$r/tmp"
  key=$( (cd "$r" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16)
  # The Dockerfile's ENTRYPOINT, node flags included, as the one source.
  entrypoint=$(sed -n 's/^ENTRYPOINT[[:space:]]*//p' "$root/Dockerfile")
  [ -n "$entrypoint" ] || fail "no ENTRYPOINT in the Dockerfile"
  pack operator meshid-operator:latest "$r" "$key" \
    -entrypoint "$entrypoint" -user 65532:65532 -workdir /app \
    -env NODE_ENV=production -port 9443/tcp -port 8080/tcp -port 8081/tcp
}

[ $# -gt 0 ] || set -- pause workload operator
for image in "$@"; do
  case "$image" in
    pause) build_pause ;;
    workload) build_workload ;;
    operator) build_operator ;;
    *) fail "unknown image '$image' (pause, workload or operator)" ;;
  esac
done
