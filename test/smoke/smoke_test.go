// Package smoke runs the commands a newcomer and a maintainer run, make demo, make bench and
// make soak, in small: each starts its own control plane, fake endpoint and managers through
// internal/harness. A package of its own, so that go test runs it beside the e2e suite.
package smoke

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenops/figma-token-operator/internal/harness"
)

// runCommand builds the program in folder dir (test/bench, hack/demo) and runs it from the
// repository, as make does, and returns what it printed; it fails the test if the command
// fails or runs over eight minutes.
func runCommand(t *testing.T, dir string, args ...string) string {
	t.Helper()
	name := filepath.Base(dir)
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	binary := filepath.Join(t.TempDir(), name)
	if err := harness.GoBuild(ctx, root, binary, "./"+dir); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return string(out)
}
