package e2e

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// There is no container engine here, so the image's build stage is replayed: only what the
// Dockerfile copies goes into a fresh directory, and its go build command runs there. The
// result must be a static binary (distroless/static has no libc) and the image must not run
// as root.
func TestDockerfileBuildsAStaticNonRootManager(t *testing.T) {
	t.Parallel()
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	context := t.TempDir()
	var buildCommand string
	stage := 0
	scanner := bufio.NewScanner(strings.NewReader(string(dockerfile)))
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		switch {
		case len(fields) == 0 || strings.HasPrefix(fields[0], "#"):
		case fields[0] == "FROM":
			stage++
		case stage == 1 && fields[0] == "COPY":
			for _, src := range fields[1 : len(fields)-1] {
				copyInto(t, filepath.Join(root, src), filepath.Join(context, src))
			}
		case stage == 1 && fields[0] == "RUN" && strings.Contains(scanner.Text(), "go build"):
			buildCommand = strings.TrimPrefix(scanner.Text(), "RUN ")
		}
	}
	if buildCommand == "" {
		t.Fatal("no go build in the Dockerfile's build stage")
	}
	if !strings.Contains(string(dockerfile), "USER 65532:65532") || !strings.Contains(string(dockerfile), "distroless/static:nonroot") {
		t.Fatal("the image must run as the distroless nonroot user")
	}

	cmd := exec.Command("bash", "-c", strings.ReplaceAll(buildCommand, "/out/manager", filepath.Join(context, "manager")))
	cmd.Dir = context
	cmd.Env = append(os.Environ(), "TARGETOS=linux", "TARGETARCH="+runtime.GOARCH, "VERSION=v9.9.9")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the Dockerfile's build fails on its own context: %v\n%s", err, out)
	}
	if out, err := exec.Command(filepath.Join(context, "manager"), "--version").Output(); err != nil || !strings.HasPrefix(string(out), "figma-token-operator v9.9.9 ") {
		t.Fatalf("the image's manager --version: %q, %v; want the VERSION build argument", out, err)
	}
	binary, err := elf.Open(filepath.Join(context, "manager"))
	if err != nil {
		t.Fatal(err)
	}
	defer binary.Close()
	for _, p := range binary.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the manager is dynamically linked; distroless/static has no libc")
		}
	}
}

// copyInto copies a file or a directory tree, leaving out tests as .dockerignore does.
func copyInto(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if strings.HasSuffix(path, "_test.go") || strings.Contains(path, "/testdata/") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
