#!/usr/bin/env bash
# Renders a kustomization with the manager image set to IMG, the AWS region the manager
# calls Amplify UI Builder in, and any components given after it, without editing the
# repository:
#   AWS_REGION=us-east-1 hack/render.sh config/default registry.example.com/figma-token-operator:v0.2.0 [config/components/rollout-restarts ...]
# AWS_REGION is optional: without it the manager's Amplify upstream is off and only the Figma
# upstream serves (it says so on stderr). AWS_ROLE_ARN, optional, annotates the
# ServiceAccount for IRSA (eks.amazonaws.com/role-arn). KUBECTL names the kubectl whose
# built-in kustomize renders it (default: kubectl).
set -euo pipefail
img=$2
region=${AWS_REGION:-}
if [[ -z "$region" ]]; then
  echo "no AWS_REGION: the manager's Amplify upstream is off, FigmaTokens on the Figma upstream are served (for Amplify: AWS_REGION=us-east-1)" >&2
elif [[ ! "$region" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]]; then
  echo "AWS_REGION=$region is not an AWS region name (e.g. us-east-1)" >&2
  exit 1
fi
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
irsa=""
if [[ -n "${AWS_ROLE_ARN:-}" ]]; then
  if [[ ! "$AWS_ROLE_ARN" =~ ^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$ ]]; then
    echo "AWS_ROLE_ARN=$AWS_ROLE_ARN is not an IAM role ARN (arn:aws:iam::111122223333:role/NAME)" >&2
    exit 1
  fi
  irsa="
- target:
    kind: ServiceAccount
  patch: |-
    - op: add
      path: /metadata/annotations
      value:
        eks.amazonaws.com/role-arn: $AWS_ROLE_ARN"
fi
regionPatch=""
if [[ -n "$region" ]]; then
  regionPatch="
- target:
    kind: Deployment
  patch: |-
    - op: add
      path: /spec/template/spec/containers/0/args/-
      value: --aws-region=$region"
fi
if [[ -z "$regionPatch$irsa" ]]; then
  patches=" []"
fi
cat >"$overlay/kustomization.yaml" <<YAML
resources:
- $dir
components:$components
images:
- name: figma-token-operator
$image
patches:${patches:-}$regionPatch$irsa
YAML
"${KUBECTL:-kubectl}" kustomize "$overlay"
