#!/usr/bin/env bash
# Stamps a release version on the files that name it, so that the chart, its default image
# tag and the changelog tell one story:
#   hack/stamp-version.sh v0.4.0 [repository root]
# Chart.yaml gets version 0.4.0 and appVersion v0.4.0 (the image tag make release pushes);
# CHANGELOG.md must already have a "## [0.4.0]" section: the release says what changed.
set -euo pipefail
version=${1:?usage: hack/stamp-version.sh vX.Y.Z [root]}
root=${2:-$(cd "$(dirname "$0")/.." && pwd)}
if [[ ! "$version" =~ ^v([0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?)$ ]]; then
  echo "not a release version: $version (want vX.Y.Z)" >&2
  exit 1
fi
semver=${BASH_REMATCH[1]}
if ! grep -q "^## \[$semver\]" "$root/CHANGELOG.md"; then
  echo "CHANGELOG.md has no '## [$semver]' section: move the [Unreleased] entries under it first" >&2
  exit 1
fi
chart="$root/charts/figma-token-operator/Chart.yaml"
sed -i -E "s/^version: .*/version: $semver/; s/^appVersion: .*/appVersion: \"$version\"/" "$chart"
echo "stamped $version on $chart"
