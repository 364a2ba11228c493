// Command krew writes the krew plugin manifest of kubectl figmatoken (dist/figmatoken.yaml)
// for the archives make release builds: one platform per archive, named
// kubectl-figmatoken_OS_ARCH.tar.gz, with its SHA-256 and its download URL under -url-base.
// Run by make release-plugin:
//
//	go run ./hack/krew -version v0.2.0 -url-base https://.../download/v0.2.0 -out dist/figmatoken.yaml dist/kubectl-figmatoken_*.tar.gz
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

const binary = "kubectl-figmatoken"

// archiveName is how make release-plugin names an archive: the binary, OS and architecture.
var archiveName = regexp.MustCompile(`^` + binary + `_([a-z0-9]+)_([a-z0-9]+)\.tar\.gz$`)

// semver is krew's version: semantic, with the leading v.
var semver = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

// manifest is krew's Plugin (krew.googlecontainertools.github.com/v1alpha2).
type manifest struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   metadata `json:"metadata"`
	Spec       spec     `json:"spec"`
}

type metadata struct {
	Name string `json:"name"`
}

type spec struct {
	Version          string     `json:"version"`
	Homepage         string     `json:"homepage"`
	ShortDescription string     `json:"shortDescription"`
	Description      string     `json:"description"`
	Platforms        []platform `json:"platforms"`
}

type platform struct {
	Selector selector `json:"selector"`
	URI      string   `json:"uri"`
	Sha256   string   `json:"sha256"`
	Bin      string   `json:"bin"`
	Files    []file   `json:"files"`
}

type selector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}

type file struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func main() {
	version := flag.String("version", "", "the release, vX.Y.Z")
	urlBase := flag.String("url-base", "", "the URL the archives are downloaded from; each archive's URI is URL-BASE/ARCHIVE")
	out := flag.String("out", "", "the manifest to write, e.g. dist/figmatoken.yaml")
	flag.Parse()
	if err := run(*version, *urlBase, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "krew:", err)
		os.Exit(1)
	}
}

func run(version, urlBase, out string, archives []string) error {
	if out == "" {
		return errors.New("-out is required")
	}
	m, err := build(version, urlBase, archives)
	if err != nil {
		return err
	}
	data, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(out, data, 0o644)
}

// build is the manifest of the archives: their OS and architecture from their names, their
// SHA-256 from their contents, in a stable order.
func build(version, urlBase string, archives []string) (*manifest, error) {
	if !semver.MatchString(version) {
		return nil, fmt.Errorf("-version %q is not vX.Y.Z", version)
	}
	if !strings.HasPrefix(urlBase, "https://") && !strings.HasPrefix(urlBase, "http://") {
		return nil, fmt.Errorf("-url-base %q is not an http(s) URL", urlBase)
	}
	if len(archives) == 0 {
		return nil, errors.New("no archives given")
	}
	m := &manifest{
		APIVersion: "krew.googlecontainertools.github.com/v1alpha2",
		Kind:       "Plugin",
		Metadata:   metadata{Name: "figmatoken"},
		Spec: spec{
			Version:          version,
			Homepage:         "https://github.com/tokenops/figma-token-operator",
			ShortDescription: "Inspect and renew FigmaTokens of figma-token-operator",
			Description: "Explains why a FigmaToken (figma-token-operator) is or is not Ready and what to do\n" +
				"next, forces a refresh (renew --wait) and lists FigmaTokens by urgency. It never\n" +
				"prints a token.\n",
		},
	}
	seen := map[string]bool{}
	for _, path := range archives {
		match := archiveName.FindStringSubmatch(filepath.Base(path))
		if match == nil {
			return nil, fmt.Errorf("%s: not named %s_OS_ARCH.tar.gz", path, binary)
		}
		goos, arch := match[1], match[2]
		if seen[goos+"/"+arch] {
			return nil, fmt.Errorf("%s: a second archive for %s/%s", path, goos, arch)
		}
		seen[goos+"/"+arch] = true
		sum, err := sha256File(path)
		if err != nil {
			return nil, err
		}
		m.Spec.Platforms = append(m.Spec.Platforms, platform{
			Selector: selector{MatchLabels: map[string]string{"os": goos, "arch": arch}},
			URI:      strings.TrimSuffix(urlBase, "/") + "/" + filepath.Base(path),
			Sha256:   sum,
			Bin:      binary,
			Files:    []file{{From: binary, To: "."}, {From: "LICENSE", To: "."}},
		})
	}
	sort.Slice(m.Spec.Platforms, func(i, j int) bool { return m.Spec.Platforms[i].URI < m.Spec.Platforms[j].URI })
	return m, nil
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
