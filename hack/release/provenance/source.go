package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
)

// source is what the release was built from, as git and the go command in its folder see it.
type source struct {
	Commit            string
	Modified          []string // paths git status reports, stamped or uncommitted
	GoVersion         string   // the toolchain go picks in that folder, as the build did
	ModuleGraphSHA256 string   // of `go mod graph`: every module version the build could use
}

// readSource asks git and go in dir. The build sets -buildvcs=false, so the binaries carry
// no commit: git is the one place to read it.
func readSource(dir string) (source, error) {
	commit, err := output(dir, "git", "rev-parse", "HEAD")
	if err != nil {
		return source{}, err
	}
	status, err := output(dir, "git", "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return source{}, err
	}
	var modified []string
	for _, line := range strings.Split(status, "\n") {
		if len(line) > 3 {
			modified = append(modified, line[3:])
		}
	}
	goVersion, err := output(dir, "go", "env", "GOVERSION")
	if err != nil {
		return source{}, err
	}
	graph, err := output(dir, "go", "mod", "graph")
	if err != nil {
		return source{}, err
	}
	sum := sha256.Sum256([]byte(graph + "\n"))
	return source{Commit: commit, Modified: modified, GoVersion: goVersion, ModuleGraphSHA256: hex.EncodeToString(sum[:])}, nil
}

// output is the trimmed standard output of a command run in dir.
func output(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}
