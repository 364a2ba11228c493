package versions

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const root = "../.."

type chart struct {
	Version    string `json:"version"`
	AppVersion string `json:"appVersion"`
}

func readChart(t *testing.T, dir string) chart {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "charts/figma-token-operator/Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c chart
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// One version story: the chart's appVersion is its version with the v the image tags carry,
// the changelog has its section, and every version the README's install examples name is
// that one.
func TestTheRepositoryNamesOneVersion(t *testing.T) {
	c := readChart(t, root)
	if c.AppVersion != "v"+c.Version {
		t.Fatalf("Chart.yaml: appVersion %q, want v%s (the image tag make release pushes)", c.AppVersion, c.Version)
	}
	changelog, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(changelog), "\n## ["+c.Version+"]") {
		t.Fatalf("CHANGELOG.md has no section for %s", c.Version)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile(`(?:image\.tag=|figma-token-operator:|VERSION=)(v[0-9]+\.[0-9]+\.[0-9]+)`).FindAllStringSubmatch(string(readme), -1)
	if len(named) == 0 {
		t.Fatal("the README names no version in its install examples")
	}
	for _, m := range named {
		if m[1] != c.AppVersion {
			t.Errorf("README names %s, the chart %s", m[0], c.AppVersion)
		}
	}
}

// make release stamps its version on the chart, and refuses one the changelog does not
// describe.
func TestStampVersion(t *testing.T) {
	dir := t.TempDir()
	for _, file := range []string{"CHANGELOG.md", "charts/figma-token-operator/Chart.yaml"} {
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		if file == "CHANGELOG.md" {
			data = []byte(strings.Replace(string(data), "## [Unreleased]", "## [Unreleased]\n\n## [0.9.0]", 1))
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, file)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stamp := func(version string) error {
		return exec.Command(filepath.Join(root, "hack/stamp-version.sh"), version, dir).Run()
	}
	if err := stamp("v0.9.0"); err != nil {
		t.Fatal(err)
	}
	if c := readChart(t, dir); c.Version != "0.9.0" || c.AppVersion != "v0.9.0" {
		t.Fatalf("stamped chart: %+v", c)
	}
	for _, bad := range []string{"v0.9.1", "0.9.0", "latest"} {
		if stamp(bad) == nil {
			t.Errorf("stamp-version accepted %q", bad)
		}
	}
}

// crane, which make push runs, comes from the go-containerregistry release that hack/release
// builds the image with: one library reads and writes the layout.
func TestCraneIsTheReleaseToolsGoContainerregistry(t *testing.T) {
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "hack/release/go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	crane := regexp.MustCompile(`(?m)^CRANE_VERSION \?= (\S+)$`).FindSubmatch(makefile)
	lib := regexp.MustCompile(`(?m)github.com/google/go-containerregistry (\S+)$`).FindSubmatch(gomod)
	if crane == nil || lib == nil || string(crane[1]) != string(lib[1]) {
		t.Fatalf("Makefile CRANE_VERSION %q, hack/release/go.mod go-containerregistry %q", crane, lib)
	}
}
