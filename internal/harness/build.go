package harness

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Binaries are what a local run of the product needs, built.
type Binaries struct {
	Root string // the repository
	// Assets holds the control plane's binaries.
	Assets string
	// Manager is the operator's binary, bin/manager.
	Manager string
}

// Build finds the repository and the control-plane binaries (building them on first use)
// and builds bin/manager; say narrates the minutes-long first build.
func Build(ctx context.Context, say func(format string, args ...any)) (Binaries, error) {
	root, err := RepoRoot()
	if err != nil {
		return Binaries{}, err
	}
	assets, err := Assets(ctx, true, func(elapsed time.Duration) {
		say("still building the control plane (%s so far)...", elapsed.Round(time.Second))
	})
	if err != nil {
		return Binaries{}, err
	}
	b := Binaries{Root: root, Assets: assets, Manager: filepath.Join(root, "bin", "manager")}
	say("building the operator into bin/manager...")
	return b, GoBuild(ctx, root, b.Manager, ".")
}

// GoBuild compiles a package of the repository into output.
func GoBuild(ctx context.Context, root, output, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", output, pkg)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stdout, os.Stderr
	return cmd.Run()
}
