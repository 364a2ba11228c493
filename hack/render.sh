#!/usr/bin/env bash
# Renders a kustomization with the manager image set to IMG, and any components given after
# it, without editing the repository:
#   hack/render.sh config/default registry.example.com/figma-token-operator:v0.1.0 [config/components/rollout-restarts ...]
# KUBECTL names the kubectl whose built-in kustomize renders it (default: kubectl).
set -euo pipefail
img=$2
# kustomize takes only relative paths to other kustomizations: the overlay lives in dist/.
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/dist"
overlay=$(mktemp -d "$root/dist/.render.XXXXXX")
trap 'rm -rf "$overlay"' EXIT
dir=$(realpath --relative-to="$overlay" "$1")
components=""
for component in "${@:3}"; do
  components+="
- $(realpath --relative-to="$overlay" "$component")"
done
# IMG is name:tag, name@sha256:digest, or a bare name (tag latest).
if [[ "$img" == *@* ]]; then
  image="  newName: ${img%@*}
  digest: ${img#*@}"
elif [[ "${img##*/}" == *:* ]]; then
  image="  newName: ${img%:*}
  newTag: \"${img##*:}\""
else
  image="  newName: $img
  newTag: latest"
fi
cat >"$overlay/kustomization.yaml" <<YAML
resources:
- $dir
components:$components
images:
- name: figma-token-operator
$image
YAML
"${KUBECTL:-kubectl}" kustomize "$overlay"
