package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// The shipped alerts on a real Prometheus scraping the manager as the ServiceMonitor makes it:
// honor_labels, and the target labels the Prometheus Operator adds (namespace among them,
// which would otherwise overwrite the FigmaToken's). The rules' "for" durations are cut to
// zero here; promtool's unit tests (TestAlertRules) check the durations.
func TestAlertsOnARealPrometheus(t *testing.T) {
	g := newGomega(t)
	prometheus := toolBinary(t, "PROMETHEUS", "prometheus-*")
	metricsAddr := freeAddress(t)
	metered := newManager(operatorKubeconfig, "prometheus-manager.log", "--metrics-bind-address", metricsAddr)
	replaceOperator(t, metered)

	// Same-named FigmaTokens in two namespaces: one rejected, one healthy.
	bad, good := newNamespace(t), newNamespace(t)
	badToken, goodToken := "prom-bad-"+bad, "prom-good-"+good
	fake.SetBehavior(badToken, fakeamplify.Behavior{Reject: true})
	mustKubectl(t, secretYAML("creds", badToken)+"---\n"+figmaTokenYAML("design-system", "creds"), "apply", "-n", bad, "-f", "-")
	mustKubectl(t, secretYAML("creds", goodToken)+"---\n"+figmaTokenYAML("design-system", "creds"), "apply", "-n", good, "-f", "-")
	mustKubectl(t, "", "wait", "-n", good, "--for=condition=Ready", "figmatoken/design-system", "--timeout=90s")
	mustKubectl(t, "", "wait", "-n", bad, "--for=condition=Stalled", "figmatoken/design-system", "--timeout=90s")

	dir := t.TempDir()
	writePrometheusConfig(t, dir, metricsAddr, serviceAccountToken(t, "scraper"))
	web := freeAddress(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prometheus, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+web)
	logFile, err := os.Create(filepath.Join(work, "prometheus.log"))
	g.Expect(err).NotTo(HaveOccurred())
	cmd.Stdout, cmd.Stderr = logFile, logFile
	g.Expect(cmd.Start()).To(Succeed())
	t.Cleanup(func() { cancel(); _ = cmd.Wait(); _ = logFile.Close() })

	firing := func() []map[string]string { return firingAlerts(t, web) }
	g.Eventually(firing, "90s", "1s").Should(ContainElement(And(
		HaveKeyWithValue("alertname", "FigmaTokenStalled"),
		HaveKeyWithValue("namespace", bad), HaveKeyWithValue("name", "design-system"))),
		"the rejected token's alert names its own namespace and name")
	g.Eventually(firing, "30s", "1s").Should(ContainElement(And(
		HaveKeyWithValue("alertname", "FigmaTokenNotReady"), HaveKeyWithValue("namespace", bad))))
	g.Consistently(firing, "5s", "1s").ShouldNot(ContainElement(HaveKeyWithValue("namespace", good)), "healthy tokens fire nothing")
	g.Expect(firing()).NotTo(ContainElement(HaveKeyWithValue("alertname", "FigmaTokenOperatorAbsent")))

	// Every panel of the shipped Grafana dashboard returns data.
	for _, expr := range dashboardQueries(t) {
		g.Eventually(func() int { return resultCount(t, web, expr) }, "30s", "1s").Should(BeNumerically(">", 0), expr)
	}

	metered.Stop()
	g.Eventually(firing, "60s", "1s").Should(ContainElement(HaveKeyWithValue("alertname", "FigmaTokenOperatorAbsent")),
		"a manager no longer scraped fires the absent alert")
}

// writePrometheusConfig writes the scrape job the shipped ServiceMonitor (HTTPS, a bearer
// token, honorLabels) renders to, and the shipped rules with their "for" durations cut to
// zero.
func writePrometheusConfig(t *testing.T, dir, target, token string) {
	t.Helper()
	config := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [rules.yaml]
scrape_configs:
- job_name: serviceMonitor/figma-token-operator-system/figma-token-operator/0
  honor_labels: true
  scheme: https
  authorization: {credentials_file: token}
  tls_config: {insecure_skip_verify: true}
  static_configs:
  - targets: [%q]
    labels: {namespace: figma-token-operator-system, service: figma-token-operator-metrics, pod: figma-token-operator-7d9c, endpoint: https-metrics}
`, target)
	rules := shippedRules(t, "0s")
	for name, content := range map[string][]byte{"prometheus.yml": []byte(config), "rules.yaml": rules, "token": []byte(token)} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// firingAlerts returns the labels of the alerts Prometheus has firing; none while it starts.
func firingAlerts(t *testing.T, web string) []map[string]string {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + web + "/api/v1/alerts")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var answer struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return nil
	}
	var out []map[string]string
	for _, a := range answer.Data.Alerts {
		if a.State == "firing" {
			out = append(out, a.Labels)
		}
	}
	return out
}

// dashboardQueries are the queries of config/grafana/figma-token-operator.json's panels.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "config/grafana/figma-token-operator.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dashboard struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dashboard); err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, p := range dashboard.Panels {
		for _, target := range p.Targets {
			exprs = append(exprs, target.Expr)
		}
	}
	if len(exprs) < 5 {
		t.Fatalf("the dashboard has %d queries", len(exprs))
	}
	return exprs
}

// resultCount is how many series an instant query returns; 0 on any error.
func resultCount(t *testing.T, web, expr string) int {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + web + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var answer struct {
		Status string `json:"status"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || answer.Status != "success" {
		return 0
	}
	return len(answer.Data.Result)
}
