// Command release writes the manager's multi-arch OCI image as an OCI image layout tarball,
// without a container engine: a static binary, CA certificates, the non-root user 65532 and
// nothing else (no shell). make push pushes it: the tarball unpacked, then
// crane push --index DIR registry.example.com/figma-token-operator:v0.2.0 (push_test.go runs it).
//
//	go run . -version v0.2.0 -out ../../dist/figma-token-operator-v0.2.0.oci.tar \
//	    -binary linux/amd64=../../dist/manager-linux-amd64 -binary linux/arm64=../../dist/manager-linux-arm64
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's user, as distroless' nonroot.
const (
	uid  = 65532
	user = "65532:65532"
)

type binaries map[string]string // platform (os/arch) -> path

func (b binaries) String() string { return fmt.Sprint(map[string]string(b)) }
func (b binaries) Set(v string) error {
	platform, path, ok := strings.Cut(v, "=")
	if !ok {
		return errors.New("want os/arch=path")
	}
	b[platform] = path
	return nil
}

func main() {
	bins := binaries{}
	version := flag.String("version", "", "the release, e.g. v0.2.0")
	out := flag.String("out", "", "the OCI layout tarball to write")
	caCerts := flag.String("ca-certificates", "/etc/ssl/certs/ca-certificates.crt", "CA bundle to put in the image")
	flag.Var(bins, "binary", "os/arch=path of a static manager binary; repeat per platform")
	flag.Parse()
	if err := run(*version, *out, *caCerts, bins); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(version, out, caCerts string, bins binaries) error {
	if version == "" || out == "" || len(bins) == 0 {
		return errors.New("-version, -out and at least one -binary are required")
	}
	certs, err := os.ReadFile(caCerts)
	if err != nil {
		return err
	}
	index := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for platform, path := range bins {
		goos, arch, _ := strings.Cut(platform, "/")
		manager, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		img, err := image(version, goos, arch, manager, certs)
		if err != nil {
			return err
		}
		index = mutate.AppendManifests(index, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: goos, Architecture: arch},
		}})
	}
	dir, err := os.MkdirTemp("", "oci-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if _, err := layout.Write(dir, index); err != nil {
		return err
	}
	return tarDir(dir, out)
}

// image is one platform's image: a single layer with the binary, CA certificates and the
// user database, run as the non-root user.
func image(version, goos, arch string, manager, certs []byte) (v1.Image, error) {
	files := []file{
		{"etc/passwd", []byte(fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", uid, uid)), 0o644},
		{"etc/group", []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", uid)), 0o644},
		{"etc/ssl/certs/ca-certificates.crt", certs, 0o644},
		{"manager", manager, 0o755},
	}
	layerTar, err := tarOf(files)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		return nil, err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = goos, arch
	cfg.Config.User = user
	cfg.Config.Entrypoint = []string{"/manager"}
	cfg.Config.Labels = map[string]string{
		"org.opencontainers.image.title":    "figma-token-operator",
		"org.opencontainers.image.version":  version,
		"org.opencontainers.image.licenses": "Apache-2.0",
	}
	return mutate.ConfigFile(img, cfg)
}

type file struct {
	name string
	data []byte
	mode int64
}

// tarOf writes files, after the folders they are in, as a reproducible tar.
func tarOf(files []file) ([]byte, error) {
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	for _, dir := range []string{"etc", "etc/ssl", "etc/ssl/certs"} {
		if err := w.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		if err := w.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: epoch}); err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tarDir writes the folder dir as a tar file out.
func tarDir(dir, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := tar.NewWriter(f)
	err = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name, hdr.ModTime = filepath.ToSlash(rel), time.Unix(0, 0)
		if info.IsDir() {
			hdr.Name += "/"
		}
		if err := w.WriteHeader(hdr); err != nil {
			return err
		}
		if info.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err != nil {
		return err
	}
	return w.Close()
}
