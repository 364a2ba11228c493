package e2e

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The release image, as make release builds it without a container engine (hack/release):
// unpacked from its OCI layout tarball, it runs the manager as the non-root user, has no
// shell, and its manager prints the version it was stamped with.
func TestReleaseImageIsStaticNonRootWithoutAShell(t *testing.T) {
	t.Parallel()
	const version = "v0.0.0-e2e"
	manager := filepath.Join(work, "release-manager")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X github.com/tokenops/figma-token-operator/internal/version.Version="+version, "-o", manager, ".")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the manager: %v\n%s", err, out)
	}
	image := filepath.Join(work, "release.oci.tar")
	release := exec.Command("go", "run", ".", "-version", version, "-out", image, "-binary", "linux/"+runtime.GOARCH+"="+manager)
	release.Dir = filepath.Join(root, "hack/release")
	if out, err := release.CombinedOutput(); err != nil {
		t.Fatalf("hack/release: %v\n%s", err, out)
	}

	blobs := readTar(t, image, false)
	var index struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	blobJSON(t, blobs, "index.json", &index) // the image index: one manifest per platform
	var manifest struct {
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	blobJSON(t, blobs, blobPath(index.Manifests[0].Digest), &manifest)
	var config struct {
		Architecture string `json:"architecture"`
		Config       struct {
			User       string   `json:"User"`
			Entrypoint []string `json:"Entrypoint"`
		} `json:"config"`
	}
	blobJSON(t, blobs, blobPath(manifest.Config.Digest), &config)
	if config.Config.User != "65532:65532" || strings.Join(config.Config.Entrypoint, " ") != "/manager" || config.Architecture != runtime.GOARCH {
		t.Fatalf("image config: user %q, entrypoint %v, architecture %q", config.Config.User, config.Config.Entrypoint, config.Architecture)
	}

	layerPath := filepath.Join(t.TempDir(), "layer.tar.gz")
	if err := os.WriteFile(layerPath, blobs[blobPath(manifest.Layers[0].Digest)], 0o600); err != nil {
		t.Fatal(err)
	}
	files := readTar(t, layerPath, true)
	for name := range files {
		if strings.HasSuffix(name, "/sh") || strings.HasSuffix(name, "/bash") || strings.HasPrefix(name, "bin/") {
			t.Fatalf("the image has %s", name)
		}
	}
	for _, want := range []string{"manager", "etc/passwd", "etc/ssl/certs/ca-certificates.crt"} {
		if len(files[want]) == 0 {
			t.Fatalf("the image has no %s", want)
		}
	}
	unpacked := filepath.Join(t.TempDir(), "manager")
	if err := os.WriteFile(unpacked, files["manager"], 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(unpacked, "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "figma-token-operator "+version+" ") {
		t.Fatalf("the image's manager --version: %q, %v", out, err)
	}
}

func blobPath(digest string) string { return "blobs/" + strings.Replace(digest, ":", "/", 1) }

func blobJSON(t *testing.T, blobs map[string][]byte, name string, into any) {
	t.Helper()
	if err := json.Unmarshal(blobs[name], into); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// readTar returns the regular files of a tar (gzipped when gz) by name.
func readTar(t *testing.T, path string, gz bool) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if gz {
		if r, err = gzip.NewReader(f); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[strings.TrimPrefix(hdr.Name, "./")] = data
		}
	}
}
