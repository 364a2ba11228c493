package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// The shipped alerts, checked and unit-tested by the real promtool (pinned, built by make test)
// against test/e2e/testdata/alerts_test.yaml: each alert fires when it should, under the
// FigmaToken's own namespace and name, and stays quiet for healthy and suspended tokens.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	promtool := toolBinary(t, "PROMTOOL", "promtool-*")
	dir := t.TempDir()

	rules := shippedRules(t, "")
	tests, err := os.ReadFile(filepath.Join(root, "test/e2e/testdata/alerts_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"rules.yaml": rules, "alerts_test.yaml": tests} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("promtool %v: %v\n%s", args, err, out)
		}
	}
}

// shippedRules is config/prometheus/alerts.yaml as a Prometheus rule file (a PrometheusRule's
// spec is one), with every rule's "for" set to forDuration unless that is "".
func shippedRules(t *testing.T, forDuration string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "config/prometheus/alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		Spec struct {
			Groups []map[string]any `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &rule); err != nil {
		t.Fatal(err)
	}
	if forDuration != "" {
		for _, group := range rule.Spec.Groups {
			rules, _ := group["rules"].([]any)
			for _, r := range rules {
				if r, ok := r.(map[string]any); ok {
					r["for"] = forDuration
				}
			}
		}
	}
	out, err := yaml.Marshal(rule.Spec)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
