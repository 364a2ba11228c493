package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// What the README's release lines name, which the tests replace with their own registry and
// key (and version: versionIn).
const (
	readmeRegistry = "registry.example.com"
	readmeKey      = "COSIGN_KEY=cosign.key"
	// The throwaway keys' password, as cosign generate-key-pair and make read it.
	keyPassword = "COSIGN_PASSWORD=throwaway"
)

// tool is the binary make test names in the environment variable env (COSIGN,
// CYCLONEDX_GOMOD): the one the Makefile built, pinned. Without it the test fails and says so.
func tool(t *testing.T, env string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		t.Fatalf("%s is not set: make test sets it to the %s the Makefile builds into bin/; run make test, or set %s to that binary", env, strings.ToLower(env), env)
	}
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("%s=%s: %v", env, path, err)
	}
	return path
}

// makeVars are the variables the tests add to a make line: the release folder, the tools make
// test built, and plain HTTP for the in-process registry.
func makeVars(t *testing.T, dist string) string {
	vars := " RELEASE_DIR=" + dist + " PLAIN_HTTP=true COSIGN=" + tool(t, "COSIGN")
	if bin := os.Getenv("LOCALBIN"); bin != "" { // where make test keeps crane and helm
		vars += " LOCALBIN=" + bin
	}
	return vars
}

// startRegistry serves go-containerregistry's registry in process; it returns its host:port.
func startRegistry(t *testing.T) string {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// fakeRelease writes into a new folder the files make release writes for version: the image's
// OCI layout as make release builds it (run), with a stand-in manager per platform; a chart
// helm pushes; stand-ins for the other files.
func fakeRelease(t *testing.T, version string, managers map[string][]byte) string {
	t.Helper()
	dist := t.TempDir()
	bins := binaries{}
	for arch, data := range managers {
		path := filepath.Join(dist, "manager-linux-"+arch)
		writeFile(t, path, data)
		bins["linux/"+arch] = path
	}
	if err := run(version, filepath.Join(dist, "figma-token-operator-"+version+".oci.tar"), "/etc/ssl/certs/ca-certificates.crt", bins); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dist, "figma-token-operator-"+strings.TrimPrefix(version, "v")+".tgz"), chartArchive(t, version))
	for _, name := range []string{"install.yaml", "figmatoken.yaml", "kubectl-figmatoken_linux_amd64.tar.gz",
		"kubectl-figmatoken_linux_arm64.tar.gz", "kubectl-figmatoken_darwin_amd64.tar.gz", "kubectl-figmatoken_darwin_arm64.tar.gz"} {
		writeFile(t, filepath.Join(dist, name), []byte("stand-in for "+name))
	}
	return dist
}

// chartArchive is a packaged chart with only its Chart.yaml, as helm package names it.
func chartArchive(t *testing.T, version string) []byte {
	t.Helper()
	chartYAML := []byte("apiVersion: v2\nname: figma-token-operator\nversion: " + strings.TrimPrefix(version, "v") + "\nappVersion: " + version + "\n")
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	hdr := &tar.Header{Name: "figma-token-operator/Chart.yaml", Mode: 0o644, Size: int64(len(chartYAML)), ModTime: time.Unix(0, 0)}
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(chartYAML); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// generateKeyPair makes a throwaway cosign key pair; it returns the private and public key's paths.
func generateKeyPair(t *testing.T, cosign string) (key, pub string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(cosign, "generate-key-pair")
	cmd.Dir = dir
	cmd.Env = append(userEnv(), keyPassword)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	return filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
}

// runLine runs a shell line in dir as a user types it, the key's password set; it returns its
// standard output, and fails the test when the line fails.
func runLine(t *testing.T, dir, line string) string {
	t.Helper()
	out, stderr, err := tryLine(dir, line)
	if err != nil {
		t.Fatalf("%s: %v\n%s%s", line, err, out, stderr)
	}
	return out
}

// tryLine runs a shell line in dir as runLine does; it returns its output and error.
func tryLine(dir, line string) (stdout, stderr string, err error) {
	cmd := exec.Command("bash", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(userEnv(), keyPassword) // as a user types it, not as make test's child
	cmd.Env = append(cmd.Env, offlineTUF...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// offlineTUF keeps cosign's verify commands from fetching the public Sigstore trust root
// (which a key needs not: they warn and go on): a mirror of which no root is cached fails at
// once, before any request.
var offlineTUF = []string{"TUF_MIRROR=http://127.0.0.1:1/no-tuf", "TUF_ROOT=" + filepath.Join(os.TempDir(), "no-tuf-cache")}

// userEnv is this process's environment without what a parent make passes to its children.
func userEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name != "MAKEFLAGS" && name != "MAKELEVEL" && name != "MFLAGS" {
			env = append(env, kv)
		}
	}
	return env
}

// readmePushLine is the README's first make push line that signs (names COSIGN_KEY), or
// that does not.
func readmePushLine(t *testing.T, signed bool) string {
	t.Helper()
	for _, line := range readmeLines(t, "make push ") {
		if strings.Contains(line, readmeKey) == signed {
			return line
		}
	}
	t.Fatalf("the README has no make push line that signed=%v (with %s)", signed, readmeKey)
	return ""
}

// versionIn is the release a README line names (VERSION=vX.Y.Z), which the tests replace
// with their own; the verification lines beside it name the same one.
func versionIn(t *testing.T, line string) string {
	t.Helper()
	for _, word := range strings.Fields(line) {
		if version, ok := strings.CutPrefix(word, "VERSION="); ok {
			return version
		}
	}
	t.Fatalf("the README's line %q names no VERSION=", line)
	return ""
}

// readmeLines are the README's lines that start with prefix; the test fails without one.
func readmeLines(t *testing.T, prefix string) []string {
	t.Helper()
	readme := filepath.Join(repoRoot(t), "README.md")
	f, err := os.Open(readme)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), prefix) {
			lines = append(lines, s.Text())
		}
	}
	if len(lines) == 0 {
		t.Fatalf("%s has no line starting %q", readme, prefix)
	}
	return lines
}

// freshClone is the repository as a fresh clone has it, without the bin/ and dist/ of earlier
// builds (hack/fresh-clone.sh): where the README's push line runs, as a newcomer runs it.
func freshClone(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command(filepath.Join(repoRoot(t), "hack/fresh-clone.sh"), dir).CombinedOutput(); err != nil {
		t.Fatalf("hack/fresh-clone.sh: %v\n%s", err, out)
	}
	return dir
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// exitError is err's exit status and message, for a failure message.
func exitError(err error) string {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.String()
	}
	return err.Error()
}
