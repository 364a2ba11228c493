package e2e

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/rand"
)

// Other writers, as users meet them with kubectl (CONTRACT.md, "Other writers"): each puts
// its version of the Secret back, and the operator pays at most one more upstream call for
// all of them (here: none, its kept token is still valid), restores its token, and reports
// a fight, naming the writer, from the third overwrite within 10 minutes. Upstream calls are
// counted per refresh token at the fake.

// gitSecretYAML is the Secret as Git holds it: the refresh token and an empty placeholder
// for the access token.
func gitSecretYAML(name, refreshToken string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\ndata:\n  refreshToken: %s\n  accessToken: \"\"\n",
		name, base64.StdEncoding.EncodeToString([]byte(refreshToken)))
}

func TestGitOpsReapplyingThePlaceholderCostsNoCall(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, manager string
		apply         []string
	}{
		{name: "client-side apply", manager: "kubectl-client-side-apply", apply: []string{"apply"}},
		{name: "server-side apply by another field manager", manager: gitopsManager,
			apply: []string{"apply", "--server-side", "--force-conflicts", "--field-manager=" + gitopsManager}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGomega(t)
			ns := newNamespace(t)
			rt := "gitops-" + rand.String(16)
			apply := func() { mustKubectl(t, gitSecretYAML("creds", rt), append(tt.apply, "-n", ns, "-f", "-")...) }
			apply()
			mustKubectl(t, figmaTokenYAML("design", "creds"), "apply", "-n", ns, "-f", "-")
			mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/design", "--timeout=90s")
			token := latestToken(rt)

			// The first two re-applies get the same token back at once.
			for range 2 {
				apply()
				g.Eventually(secretValue(t, ns, "creds", "accessToken")).Should(Equal(token))
			}
			// The third starts a fight: the token comes back on its backoff, not at once, and
			// the re-applies meanwhile cost nothing.
			for range 4 {
				apply()
			}
			mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Stalled", "figmatoken/design", "--timeout=60s")
			g.Expect(reason(t, ns, "design", "Stalled")).To(Equal("SecretOverwritten"))
			g.Eventually(func() string { return overwriteEvents(t, ns) }).Should(ContainSubstring(fmt.Sprintf("%q", tt.manager)))
			g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1), "≤ 2 calls; here none beyond the first")
		})
	}
}

func TestAStaleValuePastedIsReplacedAtOnce(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	ns := newNamespace(t)
	rt := readyInPlace(t, ns, "stale")
	token := latestToken(rt)

	stale := base64.StdEncoding.EncodeToString([]byte("stale-access-token"))
	mustKubectl(t, "", "patch", "secret", "creds", "-n", ns, "-p", `{"data":{"accessToken":"`+stale+`"}}`)
	g.Eventually(secretValue(t, ns, "creds", "accessToken")).Should(Equal(token), "the operator's token is back")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/design", "--timeout=10s")
	g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1))
}

func TestReplacingTheSecretEveryFewSecondsEndsInAReportedFight(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	ns := newNamespace(t)
	rt := readyInPlace(t, ns, "replace")

	// The other writer replaces the Secret again each time the operator has answered: its
	// token back, or the fight under way.
	token := latestToken(rt)
	answered := func() bool {
		return secretValue(t, ns, "creds", "accessToken")() == token || reason(t, ns, "design", "Stalled") == "SecretOverwritten"
	}
	for range 5 {
		mustKubectl(t, secretYAML("creds", rt), "replace", "-n", ns, "-f", "-")
		g.Eventually(answered).Should(BeTrue())
	}
	g.Eventually(func() string { return reason(t, ns, "design", "Stalled") }).Should(Equal("SecretOverwritten"))
	events := overwriteEvents(t, ns)
	// A replace only removes fields, so managedFields keep no trace of its writer: the
	// Event says so and names the managers of the Secret's other fields instead.
	g.Expect(events).To(And(ContainSubstring("as kubectl replace does"), ContainSubstring(`"kubectl-client-side-apply"`), ContainSubstring("spec.target")))
	g.Expect(strings.Count(events, "\n")).To(Equal(1), "one Warning per fight:\n%s", events)
	g.Expect(fake.Calls(rt)).To(BeNumerically("<=", 2))
}

func TestAPrunedTargetIsRecreatedWithoutACall(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	ns := newNamespace(t)
	rt := "prune-" + rand.String(16)
	withTarget := figmaTokenYAML("design", "creds") + "  target:\n    name: figma-access\n"
	mustKubectl(t, secretYAML("creds", rt)+"---\n"+withTarget, "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/design", "--timeout=90s")
	token := latestToken(rt)

	for i := range 4 {
		mustKubectl(t, "", "delete", "secret", "figma-access", "-n", ns, "--wait=false")
		// The third deletion starts a fight: the target comes back a minute later.
		g.Eventually(secretValue(t, ns, "figma-access", "accessToken"), "3m").Should(Equal(token), "deletion %d", i+1)
	}
	g.Expect(reason(t, ns, "design", "Stalled")).To(Equal("SecretOverwritten"))
	g.Expect(fake.Calls(rt)).To(Equal(1), "≤ 2 calls; here none beyond the first")
}

// readyInPlace applies Secret "creds" with a new refresh token and FigmaToken "design" on
// it, waits until it is Ready and returns the refresh token.
func readyInPlace(t *testing.T, ns, prefix string) string {
	t.Helper()
	rt := prefix + "-" + rand.String(16)
	mustKubectl(t, secretYAML("creds", rt)+"---\n"+figmaTokenYAML("design", "creds"), "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/design", "--timeout=90s")
	return rt
}

// latestToken is the access token the fake issued last for a refresh token.
func latestToken(refreshToken string) string {
	issued := fake.IssuedFor(refreshToken)
	if len(issued) == 0 {
		return ""
	}
	return issued[len(issued)-1]
}

// secretValue reads one key of a Secret, "" when the Secret or key is missing.
func secretValue(t *testing.T, ns, name, key string) func() string {
	return func() string {
		out, err := kubectl(nil, "get", "secret", name, "-n", ns, "-o", "jsonpath={.data."+key+"}")
		if err != nil {
			return ""
		}
		value, _ := base64.StdEncoding.DecodeString(out)
		return string(value)
	}
}

// reason is a condition's reason, "" when absent.
func reason(t *testing.T, ns, name, condType string) string {
	return mustKubectl(t, "", "get", "figmatoken", name, "-n", ns, "-o", `jsonpath={.status.conditions[?(@.type=="`+condType+`")].reason}`)
}

// overwriteEvents lists the notes of the SecretOverwritten Events, one per line.
func overwriteEvents(t *testing.T, ns string) string {
	return mustKubectl(t, "", "get", "events.events.k8s.io", "-n", ns, "--field-selector", "reason=SecretOverwritten",
		"-o", `jsonpath={range .items[*]}{.note}{"\n"}{end}`)
}
