package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The provenance of a release built from this repository names the commit git has, the Go
// toolchain, the digest `go mod graph | sha256sum` prints, and each release file by the
// SHA-256 SHA256SUMS gives it; its predicate is the statement's, as cosign attests it.
func TestProvenanceNamesTheSourceToolchainModuleGraphAndEachFile(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	dist := t.TempDir()
	files := map[string]string{"kubectl-figmatoken_linux_amd64.tar.gz": "an archive", "SBOM.cdx.json": "{}"}
	var subjects []string
	for name, content := range files {
		path := filepath.Join(dist, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		subjects = append(subjects, path)
	}
	predicatePath, statementPath := filepath.Join(dist, "provenance.slsa.json"), filepath.Join(dist, "provenance.intoto.json")
	b := build{Version: "v1.2.3", Invocation: "make release VERSION=v1.2.3", Tools: tools{"cosign": "v2.6.5"}}
	if err := run(b, root, "2026-01-02T15:04:05Z", predicatePath, statementPath, subjects); err != nil {
		t.Fatal(err)
	}

	var s statement
	readJSON(t, statementPath, &s)
	var p predicate
	readJSON(t, predicatePath, &p)
	if got, _ := json.Marshal(p); string(got) != string(must(json.Marshal(s.Predicate))) {
		t.Fatalf("the predicate file is not the statement's predicate:\n%s\n%s", got, must(json.Marshal(s.Predicate)))
	}
	if s.Type != "https://in-toto.io/Statement/v1" || s.PredicateType != "https://slsa.dev/provenance/v1" {
		t.Fatalf("statement type %q, predicate type %q", s.Type, s.PredicateType)
	}
	if len(s.Subject) != len(files) {
		t.Fatalf("subjects %v, want one per file of %v", s.Subject, files)
	}
	for _, subject := range s.Subject {
		sum := sha256.Sum256([]byte(files[subject.Name]))
		if subject.Digest["sha256"] != hex.EncodeToString(sum[:]) {
			t.Fatalf("subject %s: digest %v, want sha256 %x", subject.Name, subject.Digest, sum)
		}
	}

	def := p.BuildDefinition
	if def.ExternalParameters.Invocation != b.Invocation || def.ExternalParameters.Version != "v1.2.3" {
		t.Fatalf("external parameters %+v", def.ExternalParameters)
	}
	commit := strings.TrimSpace(string(must(exec.Command("git", "-C", root, "rev-parse", "HEAD").Output())))
	if dep := def.ResolvedDependencies[0]; dep.Digest["gitCommit"] != commit || dep.URI != repositoryURI+"@"+commit {
		t.Fatalf("source %+v, want commit %s", dep, commit)
	}
	graph := exec.Command("go", "mod", "graph")
	graph.Dir = root
	sum := sha256.Sum256(must(graph.Output()))
	if dep := def.ResolvedDependencies[1]; dep.Name != "go mod graph" || dep.Digest["sha256"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("module graph %+v, want sha256 %x", dep, sum)
	}
	goEnv := exec.Command("go", "env", "GOVERSION")
	goEnv.Dir = root
	goVersion := strings.TrimSpace(string(must(goEnv.Output())))
	if def.InternalParameters.GoVersion != goVersion || p.RunDetails.Builder.Version["go"] != goVersion || p.RunDetails.Builder.Version["cosign"] != "v2.6.5" {
		t.Fatalf("internal parameters %+v, builder %+v, want Go %s", def.InternalParameters, p.RunDetails.Builder, goVersion)
	}
	if md := p.RunDetails.Metadata; md.StartedOn == nil || !md.StartedOn.Equal(time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)) || md.FinishedOn == nil || md.FinishedOn.Before(*md.StartedOn) {
		t.Fatalf("metadata %+v", md)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, data)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
