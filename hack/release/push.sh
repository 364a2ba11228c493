#!/usr/bin/env bash
# Pushes the release in RELEASE_DIR, as make push runs it (the Makefile sets every variable
# below): the image's OCI layout, its index (both platforms) as IMG_REPO:VERSION, with crane;
# the chart as an OCI artifact, CHART_REPO/figma-token-operator:X.Y.Z, with helm. With
# COSIGN_KEY, cosign signs the index, each platform image (--recursive) and the chart, and
# attests the manager's SBOMs and the SLSA provenance on the index. Prints the chart's
# digest, then the image's, last. Each step that talks to the registry says every 20 s that it
# still runs (hack/progress.sh).
set -euo pipefail
: "${VERSION:?}" "${IMG_REPO:?}" "${CHART_REPO:?}" "${RELEASE_DIR:?}" "${CRANE:?}" "${HELM:?}" "${COSIGN:?}"

# Flags as words (no arrays: an empty one is "unbound" to macOS's bash 3.2 under set -u).
crane_flags="" helm_flags="" cosign_flags="--yes --tlog-upload=${COSIGN_TLOG:-false}"
if [[ ${PLAIN_HTTP:-false} == true ]]; then
  crane_flags="--insecure" helm_flags="--plain-http" cosign_flags="$cosign_flags --allow-http-registry"
fi

progress=$(dirname "$0")/../progress.sh
layout=$(mktemp -d)
trap 'rm -rf "$layout"' EXIT
tar -xf "$RELEASE_DIR/figma-token-operator-$VERSION.oci.tar" -C "$layout"
echo "pushing the image to $IMG_REPO:$VERSION"
image=$("$progress" "pushing the image" "$CRANE" push $crane_flags --index "$layout" "$IMG_REPO:$VERSION")

chart_version=${VERSION#v}
echo "pushing the chart to oci://$CHART_REPO"
"$progress" "pushing the chart" "$HELM" push $helm_flags "$RELEASE_DIR/figma-token-operator-$chart_version.tgz" "oci://$CHART_REPO" >&2
chart=$CHART_REPO/figma-token-operator@$("$CRANE" digest $crane_flags "$CHART_REPO/figma-token-operator:$chart_version")

if [[ -z ${COSIGN_KEY:-} ]]; then
  echo "COSIGN_KEY is not set: nothing was signed; the image and the chart are pushed without signatures or attestations"
else
  echo "signing the image, each platform image and the chart with $COSIGN_KEY"
  "$progress" "signing the image" "$COSIGN" sign $cosign_flags --key "$COSIGN_KEY" --recursive "$image" >&2
  "$progress" "signing the chart" "$COSIGN" sign $cosign_flags --key "$COSIGN_KEY" "$chart" >&2
  echo "attesting the manager's SBOMs and the provenance on the image"
  for sbom in "$RELEASE_DIR"/figma-token-operator_linux_*.cdx.json; do
    "$progress" "attesting ${sbom##*/}" "$COSIGN" attest $cosign_flags --key "$COSIGN_KEY" --type cyclonedx --predicate "$sbom" "$image" >&2
  done
  "$progress" "attesting the provenance" "$COSIGN" attest $cosign_flags --key "$COSIGN_KEY" --type slsaprovenance1 --predicate "$RELEASE_DIR/provenance.slsa.json" "$image" >&2
fi
echo "$chart"
echo "$image"
