package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestManifestHasOnePlatformPerArchiveWithItsChecksum(t *testing.T) {
	dir := t.TempDir()
	contents := map[string]string{
		"kubectl-figmatoken_linux_amd64.tar.gz":  "linux amd64 archive",
		"kubectl-figmatoken_darwin_arm64.tar.gz": "darwin arm64 archive",
	}
	var archives []string
	for name, content := range contents {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		archives = append(archives, path)
	}
	out := filepath.Join(dir, "figmatoken.yaml")
	if err := run("v1.2.3", "https://example.com/download/v1.2.3/", out, archives); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		t.Fatalf("the manifest does not read back: %v\n%s", err, data)
	}
	if m.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || m.Kind != "Plugin" || m.Metadata.Name != "figmatoken" || m.Spec.Version != "v1.2.3" {
		t.Fatalf("header: %+v", m)
	}
	if len(m.Spec.Platforms) != 2 {
		t.Fatalf("platforms: %+v", m.Spec.Platforms)
	}
	for i, want := range []struct{ os, arch, name string }{
		{"darwin", "arm64", "kubectl-figmatoken_darwin_arm64.tar.gz"},
		{"linux", "amd64", "kubectl-figmatoken_linux_amd64.tar.gz"},
	} {
		p := m.Spec.Platforms[i]
		sum := sha256.Sum256([]byte(contents[want.name]))
		if p.Selector.MatchLabels["os"] != want.os || p.Selector.MatchLabels["arch"] != want.arch ||
			p.URI != "https://example.com/download/v1.2.3/"+want.name || p.Sha256 != hex.EncodeToString(sum[:]) ||
			p.Bin != "kubectl-figmatoken" || len(p.Files) != 2 {
			t.Errorf("platform %d: %+v", i, p)
		}
	}
}

func TestManifestRefusesWhatKrewWouldNot(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "kubectl-figmatoken_linux_amd64.tar.gz")
	odd := filepath.Join(dir, "figmatoken-linux.tgz")
	for _, path := range []string{good, odd} {
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, version, urlBase string
		archives               []string
		err                    string
	}{
		{"a version without v", "1.2.3", "https://example.com", []string{good}, "not vX.Y.Z"},
		{"no URL", "v1.2.3", "", []string{good}, "not an http(s) URL"},
		{"no archives", "v1.2.3", "https://example.com", nil, "no archives"},
		{"an archive named otherwise", "v1.2.3", "https://example.com", []string{odd}, "not named kubectl-figmatoken_OS_ARCH.tar.gz"},
		{"one platform twice", "v1.2.3", "https://example.com", []string{good, good}, "a second archive for linux/amd64"},
		{"a missing archive", "v1.2.3", "https://example.com", []string{filepath.Join(dir, "kubectl-figmatoken_linux_arm64.tar.gz")}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build(tt.version, tt.urlBase, tt.archives)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("build = %v, want an error with %q", err, tt.err)
			}
		})
	}
}
