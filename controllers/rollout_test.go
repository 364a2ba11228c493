package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/operator"
)

func TestRolloutRestartTargetsRestartAfterEachRefresh(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.createDeployment("web")
	rt := uniqueToken("rollout")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	ft := f.createFigmaToken("design", "creds", func(ft *figmav1alpha1.FigmaToken) {
		ft.Spec.RolloutRestartTargets = []figmav1alpha1.RolloutRestartTarget{
			{Kind: "Deployment", Name: "web"},
			{Kind: "StatefulSet", Name: "missing"},
		}
	})
	f.waitReady("design")

	refreshedAt := func() string { return f.secret("creds").Annotations[figmav1alpha1.AnnotationRefreshedAt] }
	f.g.Eventually(f.restartedAt("web")).Should(Equal(refreshedAt()))
	f.g.Eventually(f.eventReasons).Should(ContainElement(figmav1alpha1.ReasonRolloutRestartFailed), "a missing workload is reported")
	f.g.Expect(f.condition("design", figmav1alpha1.ConditionReady)()).To(Equal("True/Refreshed"), "the token is fine all the same")

	first := refreshedAt()
	f.update(ft, func() { ft.Annotations = map[string]string{figmav1alpha1.AnnotationRefreshRequestedAt: "again"} })
	f.g.Eventually(func() int { return fake.Calls(rt) }).Should(Equal(2))
	// The new token's refreshed-at once it is written (the call is counted before the write).
	f.g.Eventually(refreshedAt).ShouldNot(Equal(first))
	f.g.Eventually(f.restartedAt("web")).Should(Equal(refreshedAt()), "restarted again for the new token")

	d := &appsv1.Deployment{}
	f.g.Expect(k8s.Get(context.Background(), objectKey(f.ns, "web"), d)).To(Succeed())
	f.g.Expect(d.Spec.Template.Labels).To(Equal(map[string]string{"app": "web"}), "only the annotation is touched")
}

func TestRolloutRestartsAreOptIn(t *testing.T) {
	f := newFixture(t)
	restartManager(t, func(o *operator.Options) { o.EnableRolloutRestarts = false })
	t.Cleanup(func() { restartManager(t) })
	f.createDeployment("web")
	f.createSecret("creds", map[string]string{"refreshToken": uniqueToken("optin")})
	f.createFigmaToken("design", "creds", func(ft *figmav1alpha1.FigmaToken) {
		ft.Spec.RolloutRestartTargets = []figmav1alpha1.RolloutRestartTarget{{Kind: "Deployment", Name: "web"}}
	})
	f.waitReady("design")

	f.g.Eventually(f.eventMessages).Should(ContainElement(ContainSubstring("--enable-rollout-restarts")), "the user is told how to enable them")
	f.g.Expect(f.restartedAt("web")()).To(BeEmpty(), "the workload is not patched")
	f.g.Expect(f.condition("design", figmav1alpha1.ConditionReady)()).To(Equal("True/Refreshed"), "the token is unaffected")
}

func (f *fixture) createDeployment(name string) {
	f.t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1"}}},
			},
		},
	}
	f.g.Expect(k8s.Create(context.Background(), d)).To(Succeed())
}

// restartedAt reads the restartedAt stamp on a Deployment's pod template.
func (f *fixture) restartedAt(name string) func() string {
	return func() string {
		d := &appsv1.Deployment{}
		if err := k8s.Get(context.Background(), objectKey(f.ns, name), d); err != nil {
			return err.Error()
		}
		return d.Spec.Template.Annotations[figmav1alpha1.AnnotationRestartedAt]
	}
}
