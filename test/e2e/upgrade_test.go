package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenops/figma-token-operator/internal/harness"
)

// helm upgrade upgrades the CRD (it is a template, not a file under crds/, which Helm never
// upgrades), and helm uninstall keeps it, with every FigmaToken. On an API server of its own,
// so that the release owns the CRD from the start.
func TestHelmUpgradeUpgradesTheCRDAndUninstallKeepsIt(t *testing.T) {
	t.Parallel()
	helm := toolBinary(t, "HELM", "helm-*")
	assets, err := harness.Assets(context.Background(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(work, "upgrade.kubeconfig")
	cp, err := harness.StartControlPlane(harness.ControlPlaneOptions{Assets: assets, WithoutCRDs: true, Kubeconfig: kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cp.Stop)
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
		}
		return string(out)
	}
	chart := filepath.Join(root, "charts/figma-token-operator")
	run(helm, "install", "fto", chart, "--namespace", "fto", "--create-namespace", "--set", "aws.region=eu-west-1")

	// The next version of the chart adds a field to the spec.
	next := filepath.Join(t.TempDir(), "figma-token-operator")
	if err := os.CopyFS(next, os.DirFS(chart)); err != nil {
		t.Fatal(err)
	}
	crd, err := os.ReadFile(filepath.Join(next, "files/crd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const anchor = "              suspend:\n"
	if !strings.Contains(string(crd), anchor) {
		t.Fatal("the CRD has no spec.suspend to add a field next to")
	}
	added := strings.Replace(string(crd), anchor, "              addedInNextVersion:\n                type: string\n"+anchor, 1)
	if err := os.WriteFile(filepath.Join(next, "files/crd.yaml"), []byte(added), 0o600); err != nil {
		t.Fatal(err)
	}
	run(helm, "upgrade", "fto", next, "--namespace", "fto", "--set", "aws.region=eu-west-1")
	kubectl := filepath.Join(assets, "kubectl")
	schema := run(kubectl, "get", "crd", "figmatokens.figma.tokenops.dev", "-o", "jsonpath={.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties}")
	if !strings.Contains(schema, "addedInNextVersion") {
		t.Fatalf("helm upgrade did not upgrade the CRD: %s", schema)
	}

	run(helm, "uninstall", "fto", "--namespace", "fto")
	run(kubectl, "get", "crd", "figmatokens.figma.tokenops.dev")
}
