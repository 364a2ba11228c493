package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// The install paths users take (kustomize, the one-file installer, Helm) must render and be
// accepted by a real API server. Objects of the Prometheus Operator, whose CRDs the test
// API server lacks, are checked strictly against that project's Go types instead.

func TestKustomizeInstallerIsAcceptedByTheAPIServer(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	cmd := exec.Command(filepath.Join(root, "hack/render.sh"), filepath.Join(root, "config/default"), "registry.example.com/fto:v1.2.3")
	cmd.Env = append(os.Environ(), "KUBECTL="+kubectlBin, "AWS_REGION=us-east-1")
	rendered, err := cmd.Output()
	g.Expect(err).NotTo(HaveOccurred(), "%s", stderrOf(err))

	objects := decodeAll(t, rendered)
	deployment := findDeployment(t, objects)
	g.Expect(deployment.Spec.Template.Spec.Containers[0].Image).To(Equal("registry.example.com/fto:v1.2.3"))
	expectHardened(g, deployment)
	g.Expect(deployment.Spec.Template.Spec.Containers[0].Args).To(ContainElements("--leader-elect", "--aws-region=us-east-1"))
	g.Expect(kinds(objects)).To(ContainElements("Namespace", "CustomResourceDefinition", "ServiceAccount",
		"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service", "Deployment"))

	g.Expect(grantsWorkloadPatch(objects)).To(BeFalse(), "rollout restarts are opt-in")
	g.Expect(deployment.Spec.Template.Spec.Containers[0].Args).NotTo(ContainElement("--enable-rollout-restarts"))

	dryRunApply(t, objects)

	// make undeploy deletes all of it but the CRD, which would take every FigmaToken along,
	// and the operator's namespace, which holds the Secrets of ClusterFigmaOAuthClients.
	undeployed, err := kubectl(bytes.NewReader(rendered), "delete", "--dry-run=client", "-o", "name", "-f", "-",
		"--selector", "!figma.tokenops.dev/keep-on-undeploy")
	g.Expect(err).NotTo(HaveOccurred(), undeployed)
	g.Expect(undeployed).To(ContainSubstring("deployment.apps/figma-token-operator-controller-manager"))
	g.Expect(undeployed).NotTo(ContainSubstring("customresourcedefinition"))
	g.Expect(undeployed).NotTo(ContainSubstring("namespace/"))

	prometheus, err := exec.Command(kubectlBin, "kustomize", filepath.Join(root, "config/prometheus")).Output()
	g.Expect(err).NotTo(HaveOccurred(), "%s", stderrOf(err))
	checkPrometheusObjects(t, decodeAll(t, prometheus), 2)
}

// The namespaced install grants nothing cluster-wide but the metrics endpoint's reviews, each
// object once under the install's prefix, so that make undeploy-namespaced deletes only what
// it created.
func TestTheNamespacedInstallGrantsNothingElseClusterWide(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	cmd := exec.Command(filepath.Join(root, "hack/render.sh"), filepath.Join(root, "config/namespaced"), "registry.example.com/fto:v1.2.3")
	cmd.Env = append(os.Environ(), "KUBECTL="+kubectlBin, "AWS_REGION=us-east-1")
	rendered, err := cmd.Output()
	g.Expect(err).NotTo(HaveOccurred(), "%s", stderrOf(err))
	var clusterWide []string
	for _, o := range decodeAll(t, rendered) {
		switch o.GetKind() {
		case "ClusterRole", "ClusterRoleBinding":
			clusterWide = append(clusterWide, o.GetKind()+"/"+o.GetName())
		}
	}
	g.Expect(clusterWide).To(ConsistOf(
		"ClusterRole/figma-token-operator-metrics-auth-role",
		"ClusterRole/figma-token-operator-metrics-reader",
		"ClusterRoleBinding/figma-token-operator-metrics-auth-rolebinding"))
}

func TestRolloutRestartsComponentGrantsAndEnablesThem(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	cmd := exec.Command(filepath.Join(root, "hack/render.sh"), filepath.Join(root, "config/default"), "registry.example.com/fto:v1.2.3",
		filepath.Join(root, "config/components/rollout-restarts"))
	cmd.Env = append(os.Environ(), "KUBECTL="+kubectlBin, "AWS_REGION=us-east-1")
	rendered, err := cmd.Output()
	g.Expect(err).NotTo(HaveOccurred(), "%s", stderrOf(err))

	objects := decodeAll(t, rendered)
	g.Expect(findDeployment(t, objects).Spec.Template.Spec.Containers[0].Args).To(ContainElement("--enable-rollout-restarts"))
	g.Expect(grantsWorkloadPatch(objects)).To(BeTrue())
	dryRunApply(t, objects)
}

// grantsWorkloadPatch reports whether any rendered role grants patch on Deployments.
func grantsWorkloadPatch(objects []unstructured.Unstructured) bool {
	for _, o := range objects {
		if o.GetKind() != "ClusterRole" && o.GetKind() != "Role" {
			continue
		}
		rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
		for _, r := range rules {
			rule, _ := r.(map[string]any)
			groups, _, _ := unstructured.NestedStringSlice(rule, "apiGroups")
			resources, _, _ := unstructured.NestedStringSlice(rule, "resources")
			verbs, _, _ := unstructured.NestedStringSlice(rule, "verbs")
			if slices.Contains(groups, "apps") && slices.Contains(resources, "deployments") && slices.Contains(verbs, "patch") {
				return true
			}
		}
	}
	return false
}

func TestHelmChartIsAcceptedByTheAPIServer(t *testing.T) {
	t.Parallel()
	helm := toolBinary(t, "HELM", "helm-*")
	chart := filepath.Join(root, "charts/figma-token-operator")
	if out, err := exec.Command(helm, "lint", "--strict", chart).CombinedOutput(); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}

	t.Run("default values", func(t *testing.T) {
		g := newGomega(t)
		objects := helmTemplate(t, helm, chart, "figma-default")
		deployment := findDeployment(t, objects)
		expectHardened(g, deployment)
		g.Expect(deployment.Spec.Template.Spec.Containers[0].Image).To(Equal("figma-token-operator:v0.2.0"), "the chart's appVersion, the image tag make release pushes")
		g.Expect(kinds(objects)).To(ContainElements("ClusterRole", "ClusterRoleBinding", "Service"))
		g.Expect(kinds(objects)).NotTo(ContainElements("ServiceMonitor", "PrometheusRule", "ConfigMap"))
		g.Expect(grantsWorkloadPatch(objects)).To(BeFalse(), "rollout restarts are opt-in")
		dryRunApply(t, objects)
	})

	t.Run("rollout restarts enabled", func(t *testing.T) {
		g := newGomega(t)
		objects := helmTemplate(t, helm, chart, "figma-rollout", "--set", "rolloutRestarts.enabled=true")
		g.Expect(findDeployment(t, objects).Spec.Template.Spec.Containers[0].Args).To(ContainElement("--enable-rollout-restarts"))
		g.Expect(grantsWorkloadPatch(objects)).To(BeTrue())
		dryRunApply(t, objects)
	})

	t.Run("custom values", func(t *testing.T) {
		g := newGomega(t)
		for _, ns := range []string{"design-a", "design-b"} {
			_, _ = kubectl(nil, "create", "namespace", ns)
		}
		objects := helmTemplate(t, helm, chart, "figma-custom", "--values", filepath.Join(root, "test/e2e/testdata/helm-values-custom.yaml"))
		deployment := findDeployment(t, objects)
		expectHardened(g, deployment)
		manager := deployment.Spec.Template.Spec.Containers[0]
		g.Expect(*deployment.Spec.Replicas).To(BeEquivalentTo(2))
		g.Expect(manager.Image).To(Equal("registry.example.com/platform/figma-token-operator:v9.9.9"))
		g.Expect(manager.Args).To(ContainElements("--leader-elect", "--watch-namespace=design-a,design-b",
			"--aws-region=eu-west-1", "--amplify-endpoint=https://amplifyuibuilder.eu-west-1.amazonaws.com",
			"--metrics-bind-address=:9090", "--zap-log-level=debug"))
		g.Expect(manager.Env).To(HaveLen(2), "POD_NAMESPACE and the one of extraEnv")
		g.Expect(manager.Env[0].ValueFrom.FieldRef.FieldPath).To(Equal("metadata.namespace"), "POD_NAMESPACE through the downward API")
		g.Expect(deployment.Spec.Template.Spec.ServiceAccountName).To(Equal("figma-refresher"))

		// Watched namespaces get Roles there and nothing cluster-wide but the metrics
		// endpoint's reviews (TokenReview, SubjectAccessReview: cluster-scoped), the
		// metrics-reader role for scrapers, and the roles aggregated into the built-in ones.
		for _, o := range objects {
			switch o.GetKind() {
			case "ClusterRoleBinding":
				g.Expect(o.GetName()).To(HaveSuffix("-metrics-auth"), "a ClusterRoleBinding in namespaced mode")
			case "ClusterRole":
				g.Expect(o.GetName()).To(Or(HaveSuffix("-edit"), HaveSuffix("-view"), HaveSuffix("-metrics-auth"), HaveSuffix("-metrics-reader")),
					"a ClusterRole for the operator in namespaced mode")
			}
		}
		var roleNamespaces []string
		for _, o := range objects {
			if o.GetKind() == "Role" && strings.HasSuffix(o.GetName(), "-manager") {
				roleNamespaces = append(roleNamespaces, o.GetNamespace())
			}
			if o.GetKind() == "ServiceAccount" {
				g.Expect(o.GetAnnotations()).To(HaveKeyWithValue("eks.amazonaws.com/role-arn", "arn:aws:iam::111122223333:role/figma-token-operator"))
			}
		}
		g.Expect(roleNamespaces).To(ConsistOf("design-a", "design-b"))

		var rest []unstructured.Unstructured
		var monitoring []unstructured.Unstructured
		for _, o := range objects {
			if o.GroupVersionKind().Group == monitoringv1.SchemeGroupVersion.Group {
				monitoring = append(monitoring, o)
			} else {
				rest = append(rest, o)
			}
		}
		checkPrometheusObjects(t, monitoring, 2)
		dryRunApply(t, rest)
	})

	t.Run("knobs: disruption budget, spread, security contexts, RBAC", func(t *testing.T) {
		g := newGomega(t)
		objects := helmTemplate(t, helm, chart, "figma-knobs", "--set", "replicaCount=2",
			"--set", "podSecurityContext.runAsUser=1001", "--set", "securityContext.readOnlyRootFilesystem=true",
			"--set", "topologySpreadConstraints[0].maxSkew=1", "--set", "topologySpreadConstraints[0].topologyKey=kubernetes.io/hostname",
			"--set", "topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway", "--set", "grafana.dashboard.enabled=true")
		g.Expect(kinds(objects)).To(ContainElement("PodDisruptionBudget"))
		var dashboards int
		for _, o := range objects {
			if o.GetKind() == "ConfigMap" && o.GetLabels()["grafana_dashboard"] == "1" {
				dashboards++
			}
		}
		g.Expect(dashboards).To(Equal(1), "the Grafana dashboard, for the sidecar")
		pod := findDeployment(t, objects).Spec.Template.Spec
		g.Expect(*pod.SecurityContext.RunAsUser).To(BeEquivalentTo(1001))
		g.Expect(pod.TopologySpreadConstraints).To(HaveLen(1))
		var aggregated []string
		for _, o := range objects {
			for label := range o.GetLabels() {
				if strings.HasPrefix(label, "rbac.authorization.k8s.io/aggregate-to-") {
					aggregated = append(aggregated, o.GetName()+" "+label)
				}
			}
		}
		g.Expect(aggregated).To(ContainElements(
			"figma-knobs-figma-token-operator-edit rbac.authorization.k8s.io/aggregate-to-edit",
			"figma-knobs-figma-token-operator-view rbac.authorization.k8s.io/aggregate-to-view"))
		dryRunApply(t, objects)

		single := helmTemplate(t, helm, chart, "figma-single", "--set", "rbac.create=false", "--set", "rbac.aggregateToDefaultRoles=false", "--set", "crds.enabled=false")
		g.Expect(kinds(single)).NotTo(ContainElements("PodDisruptionBudget", "ClusterRole", "Role", "CustomResourceDefinition"))
	})

	t.Run("bad values are refused with the field named", func(t *testing.T) {
		for value, field := range map[string]string{
			"replicaCount=two":                     "/replicaCount",
			"watchNamespaces=web":                  "/watchNamespaces",
			"metrics.serviceMonitr.enabled=true":   "serviceMonitr",
			"leaderElection.leaseDuration=fifteen": "/leaderElection/leaseDuration",
			"logLevel=0":                           "/logLevel", // the manager refuses it
			"resources.limts.memory=1Gi":           "limts",
		} {
			out, err := exec.Command(helm, "template", "bad", chart, "--set", value).CombinedOutput()
			if err == nil || !strings.Contains(string(out), field) {
				t.Errorf("--set %s: want a refusal naming %s, got %v\n%s", value, field, err, out)
			}
		}
	})
}

// toolBinary is a pinned tool make test builds: the path in env, else the newest bin/glob.
func toolBinary(t *testing.T, env, glob string) string {
	if path := os.Getenv(env); path != "" {
		return path
	}
	found, _ := filepath.Glob(filepath.Join(root, "bin", glob))
	if len(found) == 0 {
		t.Fatalf("no %s: run the tests with make test, which builds the pinned tools into bin/", glob)
	}
	return found[len(found)-1]
}

func helmTemplate(t *testing.T, helm, chart, release string, args ...string) []unstructured.Unstructured {
	t.Helper()
	namespace := newNamespace(t)
	out, err := exec.Command(helm, append([]string{"template", release, chart, "--namespace", namespace, "--include-crds"}, args...)...).Output()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderrOf(err))
	}
	return decodeAll(t, out)
}

// dryRunApply sends the objects to the API server with a server-side apply dry run, after
// creating the namespaces they need for real.
func dryRunApply(t *testing.T, objects []unstructured.Unstructured) {
	t.Helper()
	var items []unstructured.Unstructured
	for _, o := range objects {
		if o.GetKind() == "Namespace" {
			_, _ = kubectl(nil, "create", "namespace", o.GetName())
			continue
		}
		items = append(items, o)
	}
	list := map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
	data, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	out, err := kubectl(bytes.NewReader(data), "apply", "--server-side", "--force-conflicts", "--dry-run=server", "--field-manager=install-test", "-f", "-")
	if err != nil {
		t.Fatalf("the API server refused the manifests: %v\n%s", err, out)
	}
	if got := strings.Count(out, "(server dry run)"); got != len(items) {
		t.Fatalf("%d of %d objects applied:\n%s", got, len(items), out)
	}
}

func decodeAll(t *testing.T, data []byte) []unstructured.Unstructured {
	t.Helper()
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objects []unstructured.Unstructured
	for {
		var o unstructured.Unstructured
		if err := decoder.Decode(&o.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objects
			}
			t.Fatal(err)
		}
		if len(o.Object) > 0 {
			objects = append(objects, o)
		}
	}
}

func kinds(objects []unstructured.Unstructured) []string {
	var out []string
	for _, o := range objects {
		out = append(out, o.GetKind())
	}
	return out
}

func findDeployment(t *testing.T, objects []unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	for _, o := range objects {
		if o.GetKind() == "Deployment" {
			d := &appsv1.Deployment{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, d, true); err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	t.Fatal("no Deployment rendered")
	return nil
}

// expectHardened checks what the restricted Pod Security Standard and a careful operator want.
func expectHardened(g Gomega, d *appsv1.Deployment) {
	pod := d.Spec.Template.Spec
	g.Expect(*pod.SecurityContext.RunAsNonRoot).To(BeTrue())
	g.Expect(pod.SecurityContext.SeccompProfile.Type).To(BeEquivalentTo("RuntimeDefault"))
	c := pod.Containers[0]
	g.Expect(*c.SecurityContext.ReadOnlyRootFilesystem).To(BeTrue())
	g.Expect(*c.SecurityContext.AllowPrivilegeEscalation).To(BeFalse())
	g.Expect(c.SecurityContext.Capabilities.Drop).To(ConsistOf(BeEquivalentTo("ALL")))
	g.Expect(c.LivenessProbe.HTTPGet.Path).To(Equal("/healthz"))
	g.Expect(c.ReadinessProbe.HTTPGet.Path).To(Equal("/readyz"))
	g.Expect(c.Resources.Limits.Memory().IsZero()).To(BeFalse())
}

// checkPrometheusObjects decodes ServiceMonitors and PrometheusRules strictly into the
// Prometheus Operator's types: an unknown or misspelled field fails.
func checkPrometheusObjects(t *testing.T, objects []unstructured.Unstructured, want int) {
	t.Helper()
	if len(objects) != want {
		t.Fatalf("%d Prometheus Operator objects, want %d", len(objects), want)
	}
	for _, o := range objects {
		var typed any
		switch o.GetKind() {
		case "ServiceMonitor":
			typed = &monitoringv1.ServiceMonitor{}
		case "PrometheusRule":
			typed = &monitoringv1.PrometheusRule{}
		default:
			t.Fatalf("unexpected %s", o.GetKind())
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, typed, true); err != nil {
			t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
		}
		if rule, ok := typed.(*monitoringv1.PrometheusRule); ok && len(rule.Spec.Groups[0].Rules) < 3 {
			t.Fatalf("PrometheusRule has %d rules", len(rule.Spec.Groups[0].Rules))
		}
	}
}

func stderrOf(err error) string {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return string(exitErr.Stderr)
	}
	return ""
}
