package controllers_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// Other writers (CONTRACT.md, "Other writers"): the operator pays no upstream call for their
// writes and tells the user what is going on. The kubectl rows of the table (apply, patch,
// replace, a pruned target) are end-to-end tests in test/e2e/otherwriters_test.go.

// A controller that puts its version back whenever the operator writes: three overwrites
// make a fight, the rewrites wait on the fight's backoff (the first a minute after the
// third overwrite), and one Event names the other writer.
func TestARevertingControllerStartsAFightAndCostsNoCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, rt := f.readyFigmaToken("fought")

	reverts := f.revert("creds", "revert-controller", 30*time.Second)
	f.g.Eventually(f.condition("fought", figmav1alpha1.ConditionStalled)).Should(Equal("True/" + figmav1alpha1.ReasonSecretOverwritten))
	f.g.Eventually(f.condition("fought", figmav1alpha1.ConditionReady)).Should(Equal("False/" + figmav1alpha1.ReasonSecretOverwritten))
	<-reverts.done
	f.g.Expect(fake.Calls(rt)).To(Equal(1), "no upstream call for another writer's overwrites")
	// Two overwrites answered at once, the third starts the fight; its first rewrite is a
	// minute away, after the reverting controller stopped.
	f.g.Expect(reverts.count()).To(Equal(3), "the operator's writes during the fight")

	var warnings []string
	for _, e := range f.events() {
		if e.Reason == figmav1alpha1.ReasonSecretOverwritten {
			warnings = append(warnings, e.Note)
		}
	}
	f.g.Expect(warnings).To(HaveLen(1), "one Warning per fight")
	f.g.Expect(warnings[0]).To(And(ContainSubstring(`"revert-controller"`), ContainSubstring("spec.target")))
	f.expectNoLeak(rt)
}

// A restart stamp that another writer strips is not sent again for the same token, even
// by a restarted operator: status records what was sent.
func TestAStrippedRestartStampIsNotSentAgainAfterARestart(t *testing.T) {
	f := newFixture(t)
	f.createDeployment("web")
	rt := uniqueToken("stamp")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("design", "creds", func(ft *figmav1alpha1.FigmaToken) {
		ft.Spec.RolloutRestartTargets = []figmav1alpha1.RolloutRestartTarget{{Kind: "Deployment", Name: "web"}}
	})
	f.waitReady("design")
	stamp := f.secret("creds").Annotations[figmav1alpha1.AnnotationRefreshedAt]
	f.g.Eventually(f.restartedAt("web")).Should(Equal(stamp))
	f.g.Eventually(func() string { return rfc3339(f.figmaToken("design").Status.RolloutRestartedFor) }).Should(Equal(stamp))

	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "web"}}
	f.update(d, func() { delete(d.Spec.Template.Annotations, figmav1alpha1.AnnotationRestartedAt) })
	restartManager(t)
	// A change to the Secret makes the new process reconcile it for sure.
	s := f.secret("creds")
	f.update(s, func() { s.Labels = map[string]string{"touched": "yes"} })

	f.g.Consistently(f.restartedAt("web"), 5*time.Second).Should(BeEmpty(), "no second restart for the same token")
	f.g.Expect(fake.Calls(rt)).To(Equal(1))
	f.g.Expect(f.condition("design", figmav1alpha1.ConditionReady)()).To(Equal("True/Refreshed"))
}

// A Secret an earlier version of the operator wrote (no access-token-hash) is adopted with
// one write: no upstream call, no restart.
func TestATokenAnEarlierVersionWroteIsAdoptedWithoutACall(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.createDeployment("web")
	ft, rt := f.readyFigmaToken("upgraded")
	s := f.secret("creds")
	stamp := s.Annotations[figmav1alpha1.AnnotationRefreshedAt]
	// As the earlier version left it: no hash, no record of restarts in status.
	f.update(s, func() { delete(s.Annotations, figmav1alpha1.AnnotationAccessTokenHash) })
	f.update(ft, func() {
		ft.Spec.RolloutRestartTargets = []figmav1alpha1.RolloutRestartTarget{{Kind: "Deployment", Name: "web"}}
	})

	f.g.Eventually(func() string { return f.secret("creds").Annotations[figmav1alpha1.AnnotationAccessTokenHash] }).ShouldNot(BeEmpty())
	f.g.Eventually(func() string { return rfc3339(f.figmaToken("upgraded").Status.RolloutRestartedFor) }).Should(Equal(stamp))
	f.g.Expect(f.restartedAt("web")()).To(BeEmpty(), "the adopted token counts as sent to workloads")
	f.g.Expect(f.secret("creds").Annotations[figmav1alpha1.AnnotationRefreshedAt]).To(Equal(stamp))
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1))
	f.g.Expect(f.condition("upgraded", figmav1alpha1.ConditionReady)()).To(Equal("True/Refreshed"))
}

func rfc3339(t *metav1.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// reverter is another writer that empties a Secret's accessToken whenever it holds a value.
type reverter struct {
	done    chan struct{}
	reverts chan struct{}
}

func (r *reverter) count() int { return len(r.reverts) }

// revert runs a reverting controller, field manager manager, on Secret name for d.
func (f *fixture) revert(name, manager string, d time.Duration) *reverter {
	r := &reverter{done: make(chan struct{}), reverts: make(chan struct{}, 1000)}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	go func() {
		defer close(r.done)
		defer cancel()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			s := &corev1.Secret{}
			if err := k8s.Get(ctx, objectKey(f.ns, name), s); err != nil || len(s.Data["accessToken"]) == 0 {
				continue
			}
			s.Data["accessToken"] = nil
			if err := k8s.Update(ctx, s, client.FieldOwner(manager)); err == nil {
				r.reverts <- struct{}{}
			} else if !apierrors.IsConflict(err) && ctx.Err() == nil {
				f.t.Logf("reverting: %v", err)
			}
		}
	}()
	return r
}

// A spec change is never an overwrite: a new accessTokenKey gets the token already obtained
// at once, without a call, and the token under the old key goes; a foreign value stays.
func TestAMovedAccessTokenKeyTakesTheTokenAlong(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ft, rt := f.readyFigmaToken("moved")
	token := string(f.secret("creds").Data["accessToken"])
	s := f.secret("creds")
	f.update(s, func() { s.Data["unrelated"] = []byte("someone-elses") })

	f.update(ft, func() { ft.Spec.SecretRef.AccessTokenKey = "figmaAccessToken" })
	f.g.Eventually(f.secretValue("creds", "figmaAccessToken")).Should(Equal(token))
	f.g.Eventually(func() map[string][]byte { return f.secret("creds").Data }).ShouldNot(HaveKey("accessToken"))
	f.g.Expect(f.secret("creds").Data).To(HaveKeyWithValue("unrelated", []byte("someone-elses")))
	f.g.Eventually(f.condition("moved", figmav1alpha1.ConditionReady)).Should(Equal("True/Refreshed"))
	f.g.Expect(f.condition("moved", figmav1alpha1.ConditionStalled)()).To(BeEmpty(), "a spec change is no overwrite")
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1))
}
