package main

import (
	"archive/tar"
	"bufio"
	"bytes"
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

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The README's push line, run as written against a registry (go-containerregistry's, in
// process) with only the registry and the version changed: the release's OCI layout lands
// as one tag whose index pulls back, by digest, an image per platform with that platform's
// manager.
func TestTheReadmesPushLinePushesBothPlatforms(t *testing.T) {
	const version = "v0.0.0-push"
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	line := readmeLine(t, filepath.Join(root, "README.md"), "make push ")
	const readmeVersion, readmeRepo = "VERSION=v0.1.0", "IMG_REPO=registry.example.com/figma-token-operator"
	if !strings.Contains(line, readmeVersion) || !strings.Contains(line, readmeRepo) {
		t.Fatalf("the README's push line %q names neither %s nor %s", line, readmeVersion, readmeRepo)
	}

	// The release, as make release writes it, with a stand-in manager per platform.
	dist := t.TempDir()
	managers := map[string][]byte{"amd64": []byte("manager for amd64"), "arm64": []byte("manager for arm64")}
	bins := binaries{}
	for arch, data := range managers {
		path := filepath.Join(t.TempDir(), "manager-linux-"+arch)
		if err := os.WriteFile(path, data, 0o755); err != nil {
			t.Fatal(err)
		}
		bins["linux/"+arch] = path
	}
	if err := run(version, filepath.Join(dist, "figma-token-operator-"+version+".oci.tar"), "/etc/ssl/certs/ca-certificates.crt", bins); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	repo := u.Host + "/figma-token-operator"
	line = strings.NewReplacer(readmeVersion, "VERSION="+version, readmeRepo, "IMG_REPO="+repo).Replace(line)
	line += " RELEASE_DIR=" + dist
	if bin := os.Getenv("LOCALBIN"); bin != "" { // where make test keeps the tools
		line += " LOCALBIN=" + bin
	}
	push := exec.Command("bash", "-c", line)
	push.Dir = root
	push.Env = userEnv() // as a user types it, not as make test's child
	out, err := push.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("%s: %v\n%s%s", line, err, out, exit.Stderr)
		}
		t.Fatalf("%s: %v", line, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	digest, err := name.NewDigest(lines[len(lines)-1]) // make push prints the pushed digest last
	if err != nil {
		t.Fatalf("make push printed no digest last: %v\n%s", err, out)
	}

	tagged, err := remote.Head(must(name.NewTag(repo + ":" + version)))
	if err != nil || tagged.Digest.String() != digest.DigestStr() {
		t.Fatalf("%s:%s resolves to %v (%v), make push printed %s", repo, version, tagged, err, digest)
	}
	index, err := remote.Index(digest)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	pulled := map[string]bool{}
	for _, m := range manifest.Manifests {
		img, err := remote.Image(digest.Context().Digest(m.Digest.String()))
		if err != nil {
			t.Fatalf("pulling %s by digest: %v", m.Digest, err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if m.Platform == nil || m.Platform.OS != "linux" || m.Platform.Architecture != cfg.Architecture {
			t.Fatalf("index entry %s: platform %v, image config %s/%s", m.Digest, m.Platform, cfg.OS, cfg.Architecture)
		}
		if got := managerOf(t, img); !bytes.Equal(got, managers[cfg.Architecture]) {
			t.Fatalf("the %s image's manager is %q, want %q", cfg.Architecture, got, managers[cfg.Architecture])
		}
		pulled[cfg.Architecture] = true
	}
	if len(pulled) != len(managers) {
		t.Fatalf("pulled %v, want every platform of %v", pulled, bins)
	}
}

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

// readmeLine is the first line of the README that starts with prefix.
func readmeLine(t *testing.T, readme, prefix string) string {
	t.Helper()
	f, err := os.Open(readme)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), prefix) {
			return s.Text()
		}
	}
	t.Fatalf("%s has no line starting %q", readme, prefix)
	return ""
}

// managerOf is the /manager file of img's single layer.
func managerOf(t *testing.T, img v1.Image) []byte {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatal("the layer has no manager")
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name == "manager" {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
