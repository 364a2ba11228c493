#!/usr/bin/env bash
# Builds envtest's control plane (kube-apiserver, etcd, kubectl) from the Go
# module proxy into bin/k8s/<version>/ and prints that directory. Nothing is
# downloaded prebuilt. A directory that already holds all three is reused.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
module="$root/hack/envtest"
k8s_version=$(cd "$module" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd_version=$(cd "$module" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
out="$root/bin/k8s/$k8s_version"

if [[ -x "$out/kube-apiserver" && -x "$out/etcd" && -x "$out/kubectl" ]]; then
  echo "$out"
  exit 0
fi

mkdir -p "$out"
echo "building kube-apiserver, etcd and kubectl $k8s_version from the Go module proxy (a few minutes the first time)..." >&2

v=${k8s_version#v}
IFS=. read -r major minor _ <<<"$v"
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"

cd "$module"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp/kubectl" k8s.io/kubernetes/cmd/kubectl
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$etcd_version" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
# Move into place only when all three built, so a half build is never reused.
mv "$tmp/kube-apiserver" "$tmp/kubectl" "$tmp/etcd" "$out/"
echo "$out"
