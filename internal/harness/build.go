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
	cmd := goBuild(ctx, root, append(releaseFlags, "-o", b.Manager, ".")...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	// The first build compiles the whole module graph (minutes on two cores): never quiet.
	started := time.Now()
	err = whileSaying(cmd.Run, 20*time.Second, func() {
		say("still building the operator (%s so far)...", time.Since(started).Round(time.Second))
	})
	return b, err
}

// whileSaying runs run, calling progress every interval until it returns.
func whileSaying(run func() error, interval time.Duration, progress func()) error {
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				progress()
			}
		}
	}()
	return run()
}

// releaseFlags build the manager as the Dockerfile and make release do (with CGO_ENABLED=0):
// the build paths trimmed, without the symbol table and DWARF. What is measured (memory
// above all: the binary's pages count in its RSS) is then what users run.
var releaseFlags = []string{"-trimpath", "-ldflags=-s -w"}

// GoBuild compiles a package of the repository into output.
func GoBuild(ctx context.Context, root, output, pkg string) error {
	return goBuild(ctx, root, "-o", output, pkg).Run()
}

// goBuild is go build with args, in the repository, its output going to the terminal.
func goBuild(ctx context.Context, root string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", append([]string{"build"}, args...)...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stdout, os.Stderr
	return cmd
}
