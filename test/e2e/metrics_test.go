package e2e

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// The contract's metrics, scraped from a running manager's metrics endpoint.
func TestMetricsEndpoint(t *testing.T) {
	g := newGomega(t)
	addr := freeAddress(t)
	metered := newManager(operatorKubeconfig, "metrics-manager.log", "--metrics-bind-address", addr)
	replaceOperator(t, metered)

	ns := newNamespace(t)
	good, bad := "metrics-good-"+ns, "metrics-bad-"+ns
	fake.SetBehavior(bad, fakeamplify.Behavior{Reject: true})
	mustKubectl(t, secretYAML("good-creds", good)+"---\n"+secretYAML("bad-creds", bad), "apply", "-n", ns, "-f", "-")
	mustKubectl(t, figmaTokenYAML("good", "good-creds")+"---\n"+figmaTokenYAML("bad", "bad-creds"), "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/good", "--timeout=90s")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Stalled", "figmatoken/bad", "--timeout=90s")
	expiresAt := mustKubectl(t, "", "get", "-n", ns, "figmatoken/good", "-o", "jsonpath={.status.expiresAt}")
	expiry, err := time.Parse(time.RFC3339, expiresAt)
	g.Expect(err).NotTo(HaveOccurred())

	series := func(metric string, labels ...string) func() []float64 {
		return func() []float64 { return scrape(t, addr).values(metric, labels...) }
	}
	g.Eventually(series("figmatoken_ready", "namespace", ns, "name", "good")).Should(Equal([]float64{1}))
	g.Eventually(series("figmatoken_ready", "namespace", ns, "name", "bad")).Should(Equal([]float64{0}))
	g.Expect(series("figmatoken_expiration_timestamp_seconds", "namespace", ns, "name", "good")()).To(Equal([]float64{float64(expiry.Unix())}))
	g.Expect(series("figmatoken_refresh_total", "namespace", ns, "name", "good", "result", "success")()).To(Equal([]float64{1}))
	g.Expect(series("figmatoken_refresh_total", "namespace", ns, "name", "bad", "result", "rejected")()).To(Equal([]float64{1}))

	// The condition series tell a Stalled token from a suspended one, for the alerts.
	g.Expect(series("figmatoken_condition", "namespace", ns, "name", "bad", "type", "Stalled", "status", "True", "reason", "RefreshRejected")()).To(Equal([]float64{1}))
	g.Expect(series("figmatoken_condition", "namespace", ns, "name", "bad", "type", "Ready", "status", "False", "reason", "RefreshRejected")()).To(Equal([]float64{1}))
	g.Expect(series("figmatoken_condition", "namespace", ns, "name", "good", "type", "Ready", "status", "True", "reason", "Refreshed")()).To(Equal([]float64{1}))
	g.Expect(series("figmatoken_condition", "namespace", ns, "name", "good", "type", "Stalled")()).To(BeEmpty())
	g.Expect(series("figmatoken_operator_build_info", "version", "dev")()).To(Equal([]float64{1}))

	// Only clients the API server authenticates and authorizes get the metrics.
	for who, token := range map[string]string{"no token": "", "a ServiceAccount without metrics-reader": serviceAccountToken(t, "stranger")} {
		resp, err := getMetrics(addr, token)
		g.Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		g.Expect(resp.StatusCode).To(BeElementOf(http.StatusUnauthorized, http.StatusForbidden), "%s was served the metrics", who)
	}

	m := scrape(t, addr)
	g.Expect(m.labelNames("figmatoken_condition")).To(ConsistOf("namespace", "name", "type", "status", "reason"))
	g.Expect(m.labelNames("figmatoken_operator_build_info")).To(ConsistOf("version", "revision", "goversion"))
	g.Expect(m.labelNames("figmatoken_ready")).To(ConsistOf("namespace", "name"))
	g.Expect(m.labelNames("figmatoken_expiration_timestamp_seconds")).To(ConsistOf("namespace", "name"))
	g.Expect(m.labelNames("figmatoken_refresh_total")).To(ConsistOf("namespace", "name", "result"))
	g.Expect(m.families["figmatoken_refresh_duration_seconds"].GetType()).To(Equal(dto.MetricType_HISTOGRAM))
	g.Expect(m.families["figmatoken_refresh_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount()).To(BeNumerically(">=", 2))
	for _, token := range append(fake.IssuedFor(good), good, bad) {
		g.Expect(m.text).NotTo(ContainSubstring(token), "a token value in the metrics")
	}

	// A deleted FigmaToken's series go away.
	mustKubectl(t, "", "delete", "-n", ns, "figmatoken/good")
	for _, metric := range []string{"figmatoken_ready", "figmatoken_expiration_timestamp_seconds", "figmatoken_refresh_total", "figmatoken_condition"} {
		g.Eventually(series(metric, "namespace", ns, "name", "good")).Should(BeEmpty(), metric)
	}
	g.Expect(series("figmatoken_ready", "namespace", ns, "name", "bad")()).To(Equal([]float64{0}))

	expectJSONLogsNamingTheFigmaToken(t, metered.Log(), ns)
}

// expectJSONLogsNamingTheFigmaToken: every log line is one JSON object, and every line a
// reconcile writes names the FigmaToken's namespace and name.
func expectJSONLogsNamingTheFigmaToken(t *testing.T, logs, ns string) {
	t.Helper()
	reconcileLines := 0
	scanner := bufio.NewScanner(strings.NewReader(logs))
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		var line map[string]any
		if err := json.Unmarshal(scanner.Bytes(), &line); err != nil {
			t.Fatalf("a log line is not JSON: %q", scanner.Text())
		}
		if _, ok := line["reconcileID"]; !ok || line["controller"] != "figmatoken" {
			continue
		}
		reconcileLines++
		if line["namespace"] == nil || line["name"] == nil {
			t.Fatalf("a reconcile log line does not name the FigmaToken: %s", scanner.Text())
		}
	}
	if reconcileLines == 0 {
		t.Fatalf("no reconcile log lines for namespace %s", ns)
	}
}

type scraped struct {
	text     string
	families map[string]*dto.MetricFamily
}

// scrape reads the metrics as Prometheus does: over HTTPS (the manager's certificate is
// self-signed), with the token of a ServiceAccount bound to the metrics-reader ClusterRole.
func scrape(t *testing.T, addr string) scraped {
	t.Helper()
	resp, err := getMetrics(addr, serviceAccountToken(t, "scraper"))
	if err != nil || resp.StatusCode != http.StatusOK {
		if err == nil {
			_ = resp.Body.Close()
		}
		return scraped{families: map[string]*dto.MetricFamily{}}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	return scraped{text: string(body), families: families}
}

// getMetrics sends one GET /metrics over HTTPS, with a bearer token unless it is "".
func getMetrics(addr, token string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, "https://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the manager's self-signed certificate
	}}
	return client.Do(req)
}

// serviceAccountToken is a TokenRequest token of a ServiceAccount in namespace system.
func serviceAccountToken(t *testing.T, name string) string {
	t.Helper()
	return strings.TrimSpace(mustKubectl(t, "", "create", "token", name, "-n", "system"))
}

// values returns the values of the series of metric whose labels include the given pairs.
func (s scraped) values(metric string, pairs ...string) []float64 {
	var out []float64
	for _, m := range s.families[metric].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(pairs); i += 2 {
			match = match && labels[pairs[i]] == pairs[i+1]
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			out = append(out, m.GetGauge().GetValue())
		case m.Counter != nil:
			out = append(out, m.GetCounter().GetValue())
		}
	}
	return out
}

func (s scraped) labelNames(metric string) []string {
	seen := map[string]bool{}
	for _, m := range s.families[metric].GetMetric() {
		for _, l := range m.GetLabel() {
			seen[l.GetName()] = true
		}
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	return names
}

func freeAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprintf("127.0.0.1:%d", l.Addr().(*net.TCPAddr).Port)
}
