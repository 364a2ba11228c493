package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"time"
)

// The SLSA v1 provenance types (https://slsa.dev/spec/v1.0/provenance), holding only the
// fields cosign's slsaprovenance1 type keeps: cosign reads the predicate into in-toto's
// Go types, and any other field would be dropped from the signed attestation.
const (
	statementType  = "https://in-toto.io/Statement/v1"
	predicateType  = "https://slsa.dev/provenance/v1"
	repositoryURI  = "git+https://github.com/tokenops/figma-token-operator"
	buildType      = "https://github.com/tokenops/figma-token-operator/tree/main/hack/release#make-release-v1"
	releaserBuilds = "https://github.com/tokenops/figma-token-operator/tree/main/hack/release#releasers-machine"
)

type statement struct {
	Type          string     `json:"_type"`
	Subject       []resource `json:"subject"`
	PredicateType string     `json:"predicateType"`
	Predicate     predicate  `json:"predicate"`
}

type predicate struct {
	BuildDefinition buildDefinition `json:"buildDefinition"`
	RunDetails      runDetails      `json:"runDetails"`
}

type buildDefinition struct {
	BuildType            string             `json:"buildType"`
	ExternalParameters   externalParameters `json:"externalParameters"`
	InternalParameters   internalParameters `json:"internalParameters"`
	ResolvedDependencies []resource         `json:"resolvedDependencies"`
}

// externalParameters are what the releaser chose: the command and the version.
type externalParameters struct {
	Invocation string `json:"invocation"`
	Version    string `json:"version"`
	Source     string `json:"source"`
}

// internalParameters are what the build's machine chose.
type internalParameters struct {
	GoVersion string `json:"goVersion"`
	// Modified lists the source files that differed from the commit (git status), so a
	// build from an uncommitted tree says so.
	Modified []string `json:"modified,omitempty"`
}

type runDetails struct {
	Builder  builder  `json:"builder"`
	Metadata metadata `json:"metadata"`
}

type builder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

type metadata struct {
	StartedOn  *time.Time `json:"startedOn,omitempty"`
	FinishedOn *time.Time `json:"finishedOn,omitempty"`
}

// resource is an in-toto ResourceDescriptor: a subject, or a dependency of the build.
type resource struct {
	URI    string            `json:"uri,omitempty"`
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

// build is what one make release knows of itself.
type build struct {
	Invocation string
	Version    string
	Started    time.Time
	Finished   time.Time
	Tools      map[string]string // tool -> version, the releaser's own tools (cosign, ...)
	Source     source
}

func (b build) predicate() predicate {
	started, finished := b.Started.UTC(), b.Finished.UTC()
	tools := map[string]string{"go": b.Source.GoVersion}
	for name, version := range b.Tools {
		tools[name] = version
	}
	return predicate{
		BuildDefinition: buildDefinition{
			BuildType: buildType,
			ExternalParameters: externalParameters{
				Invocation: b.Invocation,
				Version:    b.Version,
				Source:     repositoryURI,
			},
			InternalParameters: internalParameters{GoVersion: b.Source.GoVersion, Modified: b.Source.Modified},
			ResolvedDependencies: []resource{
				{URI: repositoryURI + "@" + b.Source.Commit, Digest: map[string]string{"gitCommit": b.Source.Commit}},
				{Name: "go mod graph", Digest: map[string]string{"sha256": b.Source.ModuleGraphSHA256}},
			},
		},
		RunDetails: runDetails{
			Builder:  builder{ID: releaserBuilds, Version: tools},
			Metadata: metadata{StartedOn: &started, FinishedOn: &finished},
		},
	}
}

// statement is the provenance for the files at paths, named by their base names as
// SHA256SUMS names them.
func (b build) statement(paths []string) (statement, error) {
	s := statement{Type: statementType, PredicateType: predicateType, Predicate: b.predicate()}
	for _, path := range paths {
		digest, err := fileSHA256(path)
		if err != nil {
			return statement{}, err
		}
		s.Subject = append(s.Subject, resource{Name: filepath.Base(path), Digest: map[string]string{"sha256": digest}})
	}
	return s, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
