// Package versions holds no code: its test keeps the version the repository names in step
// across the chart, its default image tag, the README's examples and the changelog, and runs
// hack/stamp-version.sh, which make release uses to move them together.
package versions
