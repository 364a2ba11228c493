package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The README's push line, run as written in a fresh clone against a registry (go-containerregistry's, in
// process) with only the registry and the version changed, and without a key: the release's
// OCI layout lands as one tag whose index pulls back, by digest, an image per platform with
// that platform's manager, and make push says that nothing was signed.
func TestTheReadmesPushLinePushesBothPlatforms(t *testing.T) {
	const version = "v0.0.0-push"
	line := readmePushLine(t, false)
	const readmeRepo = "IMG_REPO=" + readmeRegistry + "/figma-token-operator"
	if !strings.Contains(line, readmeRepo) {
		t.Fatalf("the README's push line %q does not name %s", line, readmeRepo)
	}

	managers := map[string][]byte{"amd64": []byte("manager for amd64"), "arm64": []byte("manager for arm64")}
	dist := fakeRelease(t, version, managers)
	repo := startRegistry(t) + "/figma-token-operator"
	line = strings.NewReplacer("VERSION="+versionIn(t, line), "VERSION="+version, readmeRepo, "IMG_REPO="+repo).Replace(line)
	out := runLine(t, freshClone(t), line+makeVars(t, dist))
	if !strings.Contains(out, "nothing was signed") {
		t.Fatalf("make push without COSIGN_KEY does not say that nothing was signed:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
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
		t.Fatalf("pulled %v, want every platform of %v", pulled, managers)
	}
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
