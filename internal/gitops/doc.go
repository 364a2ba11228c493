// Package gitops tests what GitOps tools read from this repository: the Argo CD health check
// for FigmaTokens in config/argocd/resource_customizations, run the way Argo CD runs it, and
// checked against kstatus, which Flux and kubectl wait use, so that the two never disagree.
// It has no code of its own; docs/gitops.md describes how to use what it tests.
package gitops
