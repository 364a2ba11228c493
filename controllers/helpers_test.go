package controllers_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

const (
	timeout = 60 * time.Second
	poll    = 100 * time.Millisecond
)

// fixture is one test's namespace and helpers bound to it.
type fixture struct {
	t  *testing.T
	g  Gomega
	ns string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ns := "test-" + rand.String(6)
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	g := NewWithT(t)
	g.SetDefaultEventuallyTimeout(timeout)
	g.SetDefaultEventuallyPollingInterval(poll)
	g.SetDefaultConsistentlyDuration(3 * time.Second)
	g.SetDefaultConsistentlyPollingInterval(poll)
	return &fixture{t: t, g: g, ns: ns}
}

// uniqueToken returns a refresh token no other test uses, so the fake counts per test.
func uniqueToken(prefix string) string { return prefix + "-" + rand.String(12) }

func (f *fixture) createSecret(name string, data map[string]string) *corev1.Secret {
	f.t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns}, StringData: data}
	f.g.Expect(k8s.Create(context.Background(), s)).To(Succeed())
	return s
}

func (f *fixture) createFigmaToken(name, secret string, mutate ...func(*figmav1alpha1.FigmaToken)) *figmav1alpha1.FigmaToken {
	f.t.Helper()
	ft := &figmav1alpha1.FigmaToken{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec:       figmav1alpha1.FigmaTokenSpec{SecretRef: figmav1alpha1.SecretRef{Name: figmav1alpha1.DNSSubdomain(secret)}},
	}
	for _, m := range mutate {
		m(ft)
	}
	f.g.Expect(k8s.Create(context.Background(), ft)).To(Succeed())
	return ft
}

func (f *fixture) secret(name string) *corev1.Secret {
	f.t.Helper()
	s := &corev1.Secret{}
	f.g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: name}, s)).To(Succeed())
	return s
}

func (f *fixture) figmaToken(name string) *figmav1alpha1.FigmaToken {
	f.t.Helper()
	ft := &figmav1alpha1.FigmaToken{}
	f.g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: name}, ft)).To(Succeed())
	return ft
}

// condition returns "Status/Reason" of a condition, "" when absent.
func (f *fixture) condition(name, condType string) func() string {
	return func() string {
		ft := &figmav1alpha1.FigmaToken{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: name}, ft); err != nil {
			return err.Error()
		}
		c := meta.FindStatusCondition(ft.Status.Conditions, condType)
		if c == nil {
			return ""
		}
		return string(c.Status) + "/" + c.Reason
	}
}

// readyFigmaToken creates a Secret "creds" holding a refresh token no other test uses and a
// FigmaToken named name on it, and waits until it is Ready. It returns the refresh token.
func (f *fixture) readyFigmaToken(name string) (*figmav1alpha1.FigmaToken, string) {
	f.t.Helper()
	rt := uniqueToken(name)
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken(name, "creds")
	return f.waitReady(name), rt
}

// rejectedFigmaToken creates a FigmaToken whose refresh token upstream refuses, and waits
// until it is Stalled; it returns that refresh token.
func (f *fixture) rejectedFigmaToken(name string) string {
	f.t.Helper()
	bad := uniqueToken("bad")
	fake.SetBehavior(bad, fakeamplify.Behavior{Reject: true})
	f.createSecret("creds", map[string]string{"refreshToken": bad})
	f.createFigmaToken(name, "creds")
	f.g.Eventually(f.condition(name, figmav1alpha1.ConditionStalled)).Should(Equal("True/RefreshRejected"))
	return bad
}

// readyTarget creates a FigmaToken that writes to target Secret "figma-access", waits until
// it is Ready and returns it with its refresh token.
func (f *fixture) readyTarget(name string) (*figmav1alpha1.FigmaToken, string) {
	f.t.Helper()
	rt := uniqueToken(name)
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken(name, "creds", withTarget("figma-access"))
	return f.waitReady(name), rt
}

func (f *fixture) waitReady(name string) *figmav1alpha1.FigmaToken {
	f.t.Helper()
	f.g.Eventually(f.condition(name, figmav1alpha1.ConditionReady)).Should(Equal("True/Refreshed"))
	return f.figmaToken(name)
}

// update re-reads obj and applies change until the write does not conflict.
func (f *fixture) update(obj client.Object, change func()) {
	f.t.Helper()
	f.g.Eventually(func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		change()
		return k8s.Update(context.Background(), obj)
	}).Should(Succeed())
}

func (f *fixture) events() []eventsv1.Event {
	f.t.Helper()
	var list eventsv1.EventList
	f.g.Expect(k8s.List(context.Background(), &list, client.InNamespace(f.ns))).To(Succeed())
	return list.Items
}

func (f *fixture) eventReasons() []string {
	var reasons []string
	for _, e := range f.events() {
		reasons = append(reasons, e.Reason)
	}
	return reasons
}

func (f *fixture) eventMessages() []string {
	var messages []string
	for _, e := range f.events() {
		messages = append(messages, e.Note)
	}
	return messages
}

// expectNoLeak checks that none of the secrets appears in the namespace's FigmaTokens
// (status included), its Events or the manager's logs.
func (f *fixture) expectNoLeak(secrets ...string) {
	f.t.Helper()
	var fts figmav1alpha1.FigmaTokenList
	f.g.Expect(k8s.List(context.Background(), &fts, client.InNamespace(f.ns))).To(Succeed())
	objects, _ := json.Marshal(fts)
	events, _ := json.Marshal(f.events())
	haystacks := map[string]string{"FigmaTokens": string(objects), "Events": string(events), "logs": logs.String()}
	for _, secret := range append(secrets, fake.Issued()...) {
		for where, text := range haystacks {
			if strings.Contains(text, secret) {
				f.t.Fatalf("a token value appears in %s", where)
			}
		}
	}
}

func objectKey(namespace, name string) client.ObjectKey {
	return client.ObjectKey{Namespace: namespace, Name: name}
}
