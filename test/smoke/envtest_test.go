package smoke

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/tokenops/figma-token-operator/internal/harness"
)

// The first run on a machine with downloads: hack/envtest.sh gets kube-apiserver, etcd and
// kubectl from setup-envtest, here pointed at an index and archive this test serves from the
// binaries built here, and builds nothing.
func TestEnvtestScriptDownloadsWithSetupEnvtest(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	version := k8sVersion(t)
	archive := envtestArchive(t, assets)
	sum := sha512.Sum512(archive)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	name := fmt.Sprintf("envtest-%s-%s-%s.tar.gz", version, runtime.GOOS, runtime.GOARCH)
	mux.HandleFunc("/envtest-releases.yaml", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "releases:\n  %s:\n    %s:\n      hash: %s\n      selfLink: %s/%s\n", version, name, hex.EncodeToString(sum[:]), srv.URL, name)
	})
	mux.HandleFunc("/"+name, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(archive) })

	out, stderr := runEnvtestScript(t, srv.URL+"/envtest-releases.yaml", t.TempDir())
	g.Expect(stderr).To(ContainSubstring("kube-apiserver, etcd and kubectl downloaded by setup-envtest"))
	g.Expect(stderr).NotTo(ContainSubstring("building"), "nothing is built")
	for _, b := range []string{"kube-apiserver", "etcd", "kubectl"} {
		g.Expect(sameFile(t, filepath.Join(out, b), filepath.Join(assets, b))).To(BeTrue(), "%s is the one served", b)
	}
	g.Expect(filepath.Join(out, "kube-controller-manager")).NotTo(BeAnExistingFile(), "not asked for")
}

// Where downloads fail (as on this machine), hack/envtest.sh says so on one line and builds
// what is missing from the Go module proxy; kube-apiserver and etcd are put in place first
// so that only kubectl is built.
func TestEnvtestScriptBuildsWhenTheDownloadFails(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	index := "http://" + refused.Addr().String() + "/envtest-releases.yaml"
	g.Expect(refused.Close()).To(Succeed()) // nothing listens there now: connections are refused

	dir := t.TempDir()
	for _, b := range []string{"kube-apiserver", "etcd"} {
		data, err := os.ReadFile(filepath.Join(assets, b))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(os.WriteFile(filepath.Join(dir, b), data, 0o755)).To(Succeed())
	}
	out, stderr := runEnvtestScript(t, index, dir)
	g.Expect(stderr).To(ContainSubstring("setup-envtest could not download it"))
	g.Expect(stderr).To(ContainSubstring("building it from the Go module proxy instead"))
	g.Expect(stderr).To(ContainSubstring("building kubectl (1 of 1)"))
	version, err := exec.Command(filepath.Join(out, "kubectl"), "version", "--client").Output()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(version)).To(ContainSubstring(k8sVersion(t)), "the kubectl built")
}

// runEnvtestScript runs hack/envtest.sh with setup-envtest's index at index, writing to dir,
// and returns the directory it printed and what it said on stderr.
func runEnvtestScript(t *testing.T, index, dir string) (string, string) {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, "hack", "envtest.sh"))
	cmd.Env = append(os.Environ(), "ENVTEST_INDEX="+index, "ENVTEST_OUT="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/envtest.sh: %v\n%s", err, stderr.String())
	}
	if got := strings.TrimSpace(string(out)); got != dir {
		t.Fatalf("hack/envtest.sh printed %q, want %q\n%s", got, dir, stderr.String())
	}
	return dir, stderr.String()
}

// k8sVersion is the Kubernetes version hack/kubernetes pins, the one envtest.sh provides.
func k8sVersion(t *testing.T) string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "k8s.io/kubernetes")
	cmd.Dir = filepath.Join(root, "hack", "kubernetes")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// envtestArchive is an archive as controller-tools publishes envtest's binaries:
// controller-tools/envtest/{kube-apiserver,etcd,kubectl} in a gzipped tar.
func envtestArchive(t *testing.T, assets string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, b := range []string{"kube-apiserver", "etcd", "kubectl"} {
		data, err := os.ReadFile(filepath.Join(assets, b))
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: "controller-tools/envtest/" + b, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	da, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(da, db)
}
