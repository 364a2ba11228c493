// Command provenance writes the SLSA v1 provenance of a release, as make release-sign runs it:
// the predicate (-predicate, which make push attests on the image with cosign attest --type
// slsaprovenance1) and an in-toto statement naming each release file by its SHA-256
// (-statement, which make release-sign signs with cosign attest-blob).
//
//	go run ./provenance -source ../.. -version v0.2.0 -invocation 'make release VERSION=v0.2.0' \
//	    -started 2026-01-02T15:04:05Z -tool cosign=v2.6.5 \
//	    -predicate ../../dist/provenance.slsa.json -statement ../../dist/provenance.intoto.json ../../dist/*.tar.gz
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

type tools map[string]string // name -> version

func (t tools) String() string { return fmt.Sprint(map[string]string(t)) }
func (t tools) Set(v string) error {
	name, version, ok := strings.Cut(v, "=")
	if !ok {
		return errors.New("want name=version")
	}
	t[name] = version
	return nil
}

func main() {
	b := build{Tools: tools{}}
	dir := flag.String("source", ".", "the repository the release was built from")
	flag.StringVar(&b.Version, "version", "", "the release, e.g. v0.2.0")
	flag.StringVar(&b.Invocation, "invocation", "", "the command that built the release")
	started := flag.String("started", "", "when the build started (RFC 3339)")
	flag.Var(tools(b.Tools), "tool", "name=version of a release tool; repeat per tool")
	predicateOut := flag.String("predicate", "", "the predicate file to write")
	statementOut := flag.String("statement", "", "the statement file to write")
	flag.Parse()
	if err := run(b, *dir, *started, *predicateOut, *statementOut, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "provenance:", err)
		os.Exit(1)
	}
}

func run(b build, dir, started, predicateOut, statementOut string, subjects []string) error {
	if b.Version == "" || b.Invocation == "" || predicateOut == "" || statementOut == "" || len(subjects) == 0 {
		return errors.New("-version, -invocation, -predicate, -statement and at least one release file are required")
	}
	var err error
	if b.Started, err = time.Parse(time.RFC3339, started); err != nil {
		return fmt.Errorf("-started: %w", err)
	}
	if b.Source, err = readSource(dir); err != nil {
		return err
	}
	b.Finished = time.Now()
	s, err := b.statement(subjects)
	if err != nil {
		return err
	}
	if err := writeJSON(predicateOut, s.Predicate); err != nil {
		return err
	}
	return writeJSON(statementOut, s)
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
