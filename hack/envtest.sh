#!/usr/bin/env bash
# Puts envtest's control plane, for the Kubernetes version hack/kubernetes pins, into
# bin/k8s/<version>/ and prints that directory: kube-apiserver, etcd and kubectl, plus
# kube-controller-manager (the e2e suite's garbage collector) with --with-controller-manager.
#
# setup-envtest (controller-runtime's tool, pinned, built from the Go module proxy) downloads
# the first three in seconds. Where it cannot (no internet, a blocked index), everything is
# built from the Go module proxy instead, a few minutes the first time; envtest's downloads
# have no kube-controller-manager, so it is always built. Binaries already there are reused.
# One line on stderr says which way it went.
#
# ENVTEST_INDEX: another setup-envtest index URL (a mirror; the tests serve one).
# ENVTEST_OUT: another output directory (the tests).
set -euo pipefail

setup_envtest_version=v0.25.1 # sigs.k8s.io/controller-runtime/tools/setup-envtest

root=$(cd "$(dirname "$0")/.." && pwd)
progress=$root/hack/progress.sh
module="$root/hack/kubernetes"
k8s_version=$(cd "$module" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd_version=$(cd "$module" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
out=${ENVTEST_OUT:-"$root/bin/k8s/$k8s_version"}

downloadable=(kube-apiserver etcd kubectl)
wanted=("${downloadable[@]}")
[[ "${1:-}" == --with-controller-manager ]] && wanted+=(kube-controller-manager)

missing() {
  local b
  for b in "$@"; do [[ -x "$out/$b" ]] || echo "$b"; done
}

mkdir -p "$out"
if [[ -n "$(missing "${downloadable[@]}")" ]]; then
  setup_envtest="$root/bin/setup-envtest-$setup_envtest_version"
  if [[ ! -x "$setup_envtest" ]]; then
    tmp=$(mktemp -d)
    GOBIN=$tmp go install "sigs.k8s.io/controller-runtime/tools/setup-envtest@$setup_envtest_version" >&2
    mkdir -p "$root/bin" && mv "$tmp/setup-envtest" "$setup_envtest" && rmdir "$tmp"
  fi
  # setup-envtest only downloads here (into a store of its own, removed after): the
  # binaries live in $out like the ones built.
  store=$(mktemp -d)
  # An index that never answers must not hold the first run: give up after two minutes.
  if dir=$(timeout 120 "$setup_envtest" use "${k8s_version#v}" -p path --bin-dir "$store" \
    --os "$(go env GOOS)" --arch "$(go env GOARCH)" ${ENVTEST_INDEX:+--index "$ENVTEST_INDEX"} 2>"$store/log"); then
    for b in "${downloadable[@]}"; do cp "$dir/$b" "$out/$b.tmp" && mv "$out/$b.tmp" "$out/$b"; done
    echo "control plane $k8s_version: kube-apiserver, etcd and kubectl downloaded by setup-envtest" >&2
  else
    echo "control plane $k8s_version: setup-envtest could not download it ($(tail -n 1 "$store/log")); building it from the Go module proxy instead" >&2
  fi
  chmod -R u+w "$store" && rm -rf "$store"
fi

mapfile -t build < <(missing "${wanted[@]}")
if [[ ${#build[@]} -gt 0 ]]; then
  echo "building ${build[*]} $k8s_version from the Go module proxy (a few minutes the first time)..." >&2
  v=${k8s_version#v}
  IFS=. read -r major minor _ <<<"$v"
  pkg=k8s.io/component-base/version
  ldflags="-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  cd "$module"
  tmp=$(mktemp -d "$out/.build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  for i in "${!build[@]}"; do
    b=${build[$i]}
    echo "building $b ($((i + 1)) of ${#build[@]})..." >&2
    started=$SECONDS
    if [[ "$b" == etcd ]]; then
      CGO_ENABLED=0 "$progress" "building $b" go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$etcd_version" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
    else
      CGO_ENABLED=0 "$progress" "building $b" go build -trimpath -ldflags "$ldflags" -o "$tmp/$b" "k8s.io/kubernetes/cmd/$b"
    fi
    # Each binary moves into place only once built, so a half build is never reused.
    mv "$tmp/$b" "$out/"
    echo "built $b in $((SECONDS - started)) s" >&2
  done
fi
echo "$out"
