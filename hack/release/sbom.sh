#!/usr/bin/env bash
# Usage: CYCLONEDX_GOMOD=... GOOS=... GOARCH=... hack/release/sbom.sh OUT [MAIN]
# Writes to OUT the CycloneDX SBOM (JSON) of this module's application whose main package is
# the folder MAIN (default the module's root), for the platform in GOOS and GOARCH: the modules
# compiled into that binary, the standard library, the licenses found in them.
# cyclonedx-gomod reads the module's version (the release tag, or a pseudo-version of the
# commit) with go-git, which cannot open a linked worktree (git worktree add: its refs live in
# the main repository). There it reads a view of the tree instead: a link for each entry, and a
# git folder holding the worktree's HEAD and links to the repository's objects and refs.
set -euo pipefail
: "${CYCLONEDX_GOMOD:?}"
out=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
main=${2:-}

src=$(git rev-parse --show-toplevel)
gitdir=$(git rev-parse --absolute-git-dir)
common=$(cd "$(git rev-parse --git-common-dir)" && pwd)
if [[ $gitdir != "$common" ]]; then
  view=$(mktemp -d)
  trap 'rm -rf "$view"' EXIT
  mkdir "$view/git" "$view/src"
  cp "$gitdir/HEAD" "$view/git/HEAD"
  for shared in objects refs packed-refs config; do
    if [[ -e $common/$shared ]]; then ln -s "$common/$shared" "$view/git/$shared"; fi
  done
  echo "gitdir: $view/git" > "$view/src/.git"
  shopt -s dotglob nullglob
  for entry in "$src"/*; do
    if [[ ${entry##*/} != .git ]]; then ln -s "$entry" "$view/src/"; fi
  done
  src=$view/src
fi
cd "$src"
echo "writing ${out##*/}"
"$CYCLONEDX_GOMOD" app -json -licenses -std ${main:+-main "$main"} -output "$out"
