package e2e

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/rest"

	"github.com/tokenops/figma-token-operator/internal/harness"
)

// The chart's scale settings, installed for real and run as installed: shards: [b] renders a
// Deployment per instance, whose managers (with exactly the Deployments' arguments, as the
// chart's ServiceAccount) split the FigmaTokens between them, and a FigmaToken relabeled to
// the shard is handed over without an upstream call; apf.enabled gives that ServiceAccount a
// priority level of its own, which every request of the managers is matched to (the API
// server names the FlowSchema in each answer's X-Kubernetes-PF-FlowSchema-UID header).
func TestTheChartsShardsAndPriorityLevelOnTheAPIServer(t *testing.T) {
	g := newGomega(t)
	const release, namespace = "fto-scale", "fto-scale"
	helm := toolBinary(t, "HELM", "helm-*")
	_, _ = kubectl(nil, "create", "namespace", namespace)
	out, err := exec.Command(helm, "template", release, filepath.Join(root, "charts/figma-token-operator"), "-n", namespace,
		"--set", "aws.region=us-east-1", "--set", "shards={b}", "--set", "apf.enabled=true").Output()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderrOf(err))
	}
	mustKubectl(t, string(out), "apply", "--server-side", "--force-conflicts", "-f", "-")
	flowSchema := strings.TrimSpace(mustKubectl(t, "", "get", "flowschema", release+"-figma-token-operator", "-o", "jsonpath={.metadata.uid}"))
	g.Expect(flowSchema).NotTo(BeEmpty())

	// Each manager's requests go through a proxy of its own that forwards them as the chart's
	// ServiceAccount and notes, for each answer, the FlowSchema the API server matched and
	// which writes the manager made.
	defaultInstance := installedDeployment(t, namespace, release+"-figma-token-operator")
	shard := installedDeployment(t, namespace, release+"-figma-token-operator-shard-b")
	token := strings.TrimSpace(mustKubectl(t, "", "create", "token", defaultInstance.Spec.Template.Spec.ServiceAccountName, "-n", namespace))
	var (
		mu      sync.Mutex
		matched = map[string]int{}             // FlowSchema UID -> answers
		writes  = map[string]map[string]bool{} // instance -> the paths it wrote
	)
	managers := map[string]*harness.Manager{}
	for name, d := range map[string]*appsv1.Deployment{"default": defaultInstance, "b": shard} {
		proxy := startAPIProxy(t, &rest.Config{Host: operatorUserConfig.Host, BearerToken: token,
			TLSClientConfig: rest.TLSClientConfig{CAData: operatorUserConfig.CAData, CAFile: operatorUserConfig.CAFile}})
		writes[name] = map[string]bool{}
		proxy.ObserveResponses(func(resp *http.Response) {
			mu.Lock()
			defer mu.Unlock()
			matched[resp.Header.Get("X-Kubernetes-PF-FlowSchema-UID")]++
			if resp.Request.Method != http.MethodGet {
				writes[name][resp.Request.URL.Path] = true
			}
		})
		m := managerAsDeployed(t, d, "scale-"+name)
		m.Kubeconfig = proxy.Kubeconfig
		managers[name] = m
	}
	g.Expect(strings.Join(managers["default"].Args, " ")).To(ContainSubstring("--watch-label-selector=figma.tokenops.dev/shard notin (b)"))
	g.Expect(strings.Join(managers["b"].Args, " ")).To(ContainSubstring("--watch-label-selector=figma.tokenops.dev/shard=b"))
	replaceOperator(t, managers["default"])
	g.Expect(managers["b"].Start()).To(Succeed())
	t.Cleanup(managers["b"].Stop)

	ns := newNamespace(t)
	tokens := map[string]string{"unlabeled": "scale-" + rand.String(12), "labeled": "scale-" + rand.String(12)}
	applyShardedFigmaTokens(t, ns, tokens, map[string]string{"labeled": "b"})
	// An instance reconciled a FigmaToken when it wrote the FigmaToken's status.
	reconciled := func(instance, name string) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			return writes[instance]["/apis/figma.tokenops.dev/v1alpha1/namespaces/"+ns+"/figmatokens/"+name+"/status"]
		}
	}
	g.Expect(reconciled("b", "labeled")()).To(BeTrue(), "the shard reconciles what it selects")
	g.Expect(reconciled("b", "unlabeled")()).To(BeFalse(), "and nothing else")
	g.Expect(reconciled("default", "labeled")()).To(BeFalse(), "the default instance leaves the shard's alone")

	// The handover: relabeled, the FigmaToken is the shard's, with no upstream call; a
	// refresh requested then is the shard's to make, once.
	mustKubectl(t, "", "label", "-n", ns, "figmatoken/unlabeled", "figma.tokenops.dev/shard=b")
	for _, rt := range tokens {
		g.Consistently(func() int { return fake.Calls(rt) }, 3*time.Second).Should(Equal(1), "one upstream call each, the handover none")
	}
	mustKubectl(t, "", "annotate", "-n", ns, "figmatoken/unlabeled", "figma.tokenops.dev/refresh-requested-at=handed-over")
	secretWritten := func(instance string) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			return writes[instance]["/api/v1/namespaces/"+ns+"/secrets/creds-unlabeled"]
		}
	}
	g.Expect(secretWritten("default")()).To(BeTrue(), "the default instance wrote it before")
	g.Eventually(secretWritten("b")).Should(BeTrue(), "the shard refreshes the relabeled FigmaToken")
	mustKubectl(t, "", "wait", "-n", ns, "--for=jsonpath={.status.lastHandledRefreshRequest}=handed-over", "figmatoken/unlabeled", "--timeout=30s")
	g.Consistently(func() int { return fake.Calls(tokens["unlabeled"]) }, 3*time.Second).Should(Equal(2), "one refresh for the request, by one instance")

	mu.Lock()
	defer mu.Unlock()
	g.Expect(matched).To(HaveKey(flowSchema), "the managers' requests meet the chart's FlowSchema")
	g.Expect(matched).To(HaveLen(1), "every answer names the chart's FlowSchema (%s): %v", flowSchema, matched)
}
