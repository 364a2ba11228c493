#!/usr/bin/env bash
# Usage: hack/fresh-clone.sh DIR
# Copies the repository into DIR as a fresh clone of it would be: the files git tracks, with
# their working-tree contents, and new files not yet ignored, but nothing a build leaves
# (bin/, dist/, caches). The tests run the README's lines there, so that a line that needs a
# folder or a file only an earlier build made fails the suite instead of a newcomer.
set -euo pipefail
dest=${1:?usage: hack/fresh-clone.sh DIR}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
cd "$(dirname "$0")/.."
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' file; do
    # A tracked file deleted in the working tree is not in the clone to be.
    if [ -e "$file" ] || [ -L "$file" ]; then printf '%s\0' "$file"; fi
  done |
  xargs -0 cp -P -p --parents -t "$dest"
