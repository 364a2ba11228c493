#!/usr/bin/env bash
# Builds envtest's control plane (kube-apiserver, etcd, kubectl, and kube-controller-manager
# for garbage collection) from the Go module proxy into bin/k8s/<version>/ and prints that
# directory. Nothing is downloaded prebuilt. Binaries already there are reused.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
module="$root/hack/kubernetes"
k8s_version=$(cd "$module" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd_version=$(cd "$module" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
out="$root/bin/k8s/$k8s_version"

binaries=(kube-apiserver etcd kubectl kube-controller-manager)
missing=()
for b in "${binaries[@]}"; do
  [[ -x "$out/$b" ]] || missing+=("$b")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$out"
  exit 0
fi

mkdir -p "$out"
echo "building ${missing[*]} $k8s_version from the Go module proxy (a few minutes the first time)..." >&2

v=${k8s_version#v}
IFS=. read -r major minor _ <<<"$v"
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"

cd "$module"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for i in "${!missing[@]}"; do
  b=${missing[$i]}
  echo "building $b ($((i + 1)) of ${#missing[@]})..." >&2
  started=$SECONDS
  if [[ "$b" == etcd ]]; then
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$etcd_version" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
  else
    CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp/$b" "k8s.io/kubernetes/cmd/$b"
  fi
  # Each binary moves into place only once built, so a half build is never reused.
  mv "$tmp/$b" "$out/"
  echo "built $b in $((SECONDS - started)) s" >&2
done
echo "$out"
