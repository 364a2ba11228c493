package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The README's lines run where a newcomer runs them: a fresh clone (hack/fresh-clone.sh), not
// this working tree, whose bin/ and dist/ earlier builds filled.
var (
	cloneOnce sync.Once
	clone     string
	cloneErr  error
)

// freshClone is the suite's fresh clone of the repository, made on first use.
func freshClone(t *testing.T) string {
	t.Helper()
	cloneOnce.Do(func() {
		clone = filepath.Join(work, "clone")
		out, err := exec.Command(filepath.Join(root, "hack/fresh-clone.sh"), clone).CombinedOutput()
		if err != nil {
			cloneErr = err
			t.Logf("hack/fresh-clone.sh: %s", out)
		}
	})
	if cloneErr != nil {
		t.Fatalf("hack/fresh-clone.sh: %v", cloneErr)
	}
	return clone
}

// readmeCommands are the commands of the first ```sh block after the README's heading line,
// each joined across its backslash-continued lines.
func readmeCommands(t *testing.T, heading string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var commands []string
	var line strings.Builder
	found, inBlock := false, false
	s := bufio.NewScanner(f)
	for s.Scan() {
		text := s.Text()
		switch {
		case !found:
			found = text == heading
		case !inBlock && strings.HasPrefix(text, "#"):
			t.Fatalf("README.md: no ```sh block under %q", heading)
		case !inBlock:
			inBlock = text == "```sh"
		case text == "```":
			return commands
		default:
			if cont, ok := strings.CutSuffix(text, `\`); ok {
				line.WriteString(cont)
				continue
			}
			line.WriteString(text)
			commands = append(commands, strings.Join(strings.Fields(line.String()), " "))
			line.Reset()
		}
	}
	t.Fatalf("README.md: no heading %q with a ```sh block", heading)
	return nil
}

// readmeUninstall is the command of the "- Uninstall: `...`" line under the README's heading.
func readmeUninstall(t *testing.T, heading string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n"+heading+"\n")
	if ok {
		if end := strings.Index(section, "\n#"); end >= 0 {
			section = section[:end]
		}
		if _, rest, ok := strings.Cut(section, "\n- Uninstall: `"); ok {
			if command, _, ok := strings.Cut(rest, "`"); ok {
				return strings.Join(strings.Fields(command), " ")
			}
		}
	}
	t.Fatalf("README.md: no \"- Uninstall: `...`\" line under %q", heading)
	return ""
}

// runAsANewcomer runs a README line with bash in dir, against the suite's API server, as a user
// types it: kubectl (the one matching the API server) and helm on PATH, and the pinned tools
// the Makefile builds taken from this working tree's bin/ (a fresh clone would build the same
// into its own, taking minutes the suite need not spend again).
func runAsANewcomer(t *testing.T, dir, line string) string {
	t.Helper()
	path := filepath.Join(work, "newcomer-path")
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"kubectl": kubectlBin, "helm": toolBinary(t, "HELM", "helm-*")} {
		link := filepath.Join(path, name)
		if _, err := os.Lstat(link); err != nil {
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A line that waits for ever (kubectl delete waiting on a Namespace that this control
	// plane, without a namespace controller, never finalizes) fails instead of the suite
	// hanging: its whole process group is killed.
	ctx, cancel := context.WithTimeout(context.Background(), newcomerLineTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", line)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Dir = dir
	cmd.Env = append(userEnv(), "PATH="+path+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KUBECONFIG="+adminKubeconfig, "LOCALBIN="+filepath.Join(root, "bin"))
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s\n(in a fresh clone) did not finish within %s:\n%s", line, newcomerLineTimeout, out)
	}
	if err != nil {
		t.Fatalf("%s\n(in a fresh clone): %v\n%s", line, err, out)
	}
	return string(out)
}

// newcomerLineTimeout bounds one README line: a make line that regenerates the manifests
// first takes well under a minute with the tools built.
const newcomerLineTimeout = 3 * time.Minute

// userEnv is this process's environment without what a parent make passes to its children
// and without the envtest assets make test exports (a user has neither).
func userEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "KUBEBUILDER_ASSETS", "PATH":
		default:
			env = append(env, kv)
		}
	}
	return env
}
