package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

func TestSamplesBecomeReadyAndShowTheirColumns(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	ns := newNamespace(t)
	mustKubectl(t, "", "apply", "-n", ns, "-k", filepath.Join(root, "config", "samples"))
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/design-system", "figmatoken/design-app", "--timeout=90s")

	out := mustKubectl(t, "", "get", "figmatokens", "-n", ns)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	g.Expect(lines).To(HaveLen(3))
	g.Expect(strings.Fields(lines[0])).To(Equal([]string{"NAME", "READY", "REASON", "SECRET", "EXPIRES", "NEXT-REFRESH", "AGE"}))
	// design-app on the Figma upstream, design-system on Amplify.
	for i, want := range [][]string{{"design-app", "True", "Refreshed", "design-app-credentials"}, {"design-system", "True", "Refreshed", "figma-credentials"}} {
		row := strings.Fields(lines[i+1])
		g.Expect(row[:4]).To(Equal(want))
		g.Expect(row[4]).To(MatchRegexp(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`))
		g.Expect(row[5]).To(MatchRegexp(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`))
	}
	g.Expect(figmaFake.Calls("sample-figma-app-refresh-token")).To(BeNumerically(">=", 1))

	// The client shows its columns.
	g.Eventually(func() []string {
		return strings.Split(strings.TrimSpace(mustKubectl(t, "", "get", "figmaoauthclients", "-n", ns)), "\n")
	}).Should(HaveExactElements(
		WithTransform(strings.Fields, Equal([]string{"NAME", "READY", "UPSTREAM", "CLIENT-ID", "AGE"})),
		WithTransform(func(line string) []string { return strings.Fields(line)[:4] }, Equal([]string{"design-app", "True", "Figma", sampleClientID}))))

	// The short name works too.
	g.Expect(mustKubectl(t, "", "get", "ft", "-n", ns, "-o", "name")).To(Equal("figmatoken.figma.tokenops.dev/design-app\nfigmatoken.figma.tokenops.dev/design-system\n"))
}

func TestKubectlApplyRefusesInvalidFigmaTokens(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	many := ""
	for i := range 65 {
		many += "\n      k" + strings.Repeat("x", i) + ": v"
	}
	tests := []struct{ name, spec, message string }{
		{"missing secretRef.name", "secretRef: {}", "spec.secretRef.name: Required value"},
		{"secretRef.name not a DNS subdomain", "secretRef: {name: Bad_Name}", "spec.secretRef.name"},
		{"same refresh and access keys", "secretRef: {name: s, refreshTokenKey: t, accessTokenKey: t}", "refreshTokenKey and accessTokenKey must differ"},
		{"expiresAtKey equal to a token key", "secretRef: {name: s, expiresAtKey: accessToken}", "expiresAtKey must differ"},
		{"key with a slash", "secretRef: {name: s, accessTokenKey: a/b}", "spec.secretRef.accessTokenKey"},
		{"key '.'", "secretRef: {name: s, accessTokenKey: .}", "must be a valid Secret key"},
		{"key starting with '..'", "secretRef: {name: s, refreshTokenKey: ..x}", "must be a valid Secret key"},
		{"key longer than 253", "secretRef: {name: s, accessTokenKey: " + strings.Repeat("a", 254) + "}", "spec.secretRef.accessTokenKey"},
		{"refreshBefore not a duration", "secretRef: {name: s}\nrefreshBefore: soon", "spec.refreshBefore"},
		{"refreshBefore not positive", "secretRef: {name: s}\nrefreshBefore: 0s", "refreshBefore must be a positive Go duration"},
		{"too many target labels", "secretRef: {name: s}\ntarget:\n    name: t\n    labels:" + many, "spec.target.labels"},
		{"target annotation in the operator's prefix", "secretRef: {name: s}\ntarget: {name: t, annotations: {figma.tokenops.dev/owner: x}}", "figma.tokenops.dev/ prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := "  " + strings.ReplaceAll(tt.spec, "\n", "\n  ")
			manifest := "apiVersion: figma.tokenops.dev/v1alpha1\nkind: FigmaToken\nmetadata:\n  name: bad-" + rand.String(5) + "\nspec:\n" + spec + "\n"
			out, err := kubectl(strings.NewReader(manifest), "apply", "-n", ns, "-f", "-")
			g := newGomega(t)
			g.Expect(err).To(HaveOccurred(), "kubectl apply accepted:\n%s", manifest)
			g.Expect(out).To(ContainSubstring(tt.message))
		})
	}
	newGomega(t).Expect(mustKubectl(t, "", "get", "figmatokens", "-n", ns, "-o", "name")).To(BeEmpty())
}

func TestBadRefreshTokenIsStalledAndNeverShown(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	ns := newNamespace(t)
	bad := "bad-refresh-" + rand.String(16)
	fake.SetBehavior(bad, fakeamplify.Behavior{Reject: true})
	mustKubectl(t, secretYAML("creds", bad)+"---\n"+figmaTokenYAML("rejected", "creds"), "apply", "-n", ns, "-f", "-")

	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Stalled", "figmatoken/rejected", "--timeout=90s")
	g.Expect(mustKubectl(t, "", "get", "figmatoken", "rejected", "-n", ns,
		"-o", `jsonpath={.status.conditions[?(@.type=="Ready")].reason}`)).To(Equal("RefreshRejected"))
	g.Eventually(func() string { return mustKubectl(t, "", "get", "events", "-n", ns) }).Should(ContainSubstring("RefreshRejected"))

	shown := map[string]string{
		"kubectl get -o yaml": mustKubectl(t, "", "get", "figmatoken", "rejected", "-n", ns, "-o", "yaml"),
		"kubectl get events":  mustKubectl(t, "", "get", "events", "-n", ns, "-o", "yaml"),
		"the manager's log":   operator.Log(),
	}
	g.Expect(shown["the manager's log"]).To(ContainSubstring(`"level":"debug"`), "the manager logs at debug level")
	for where, text := range shown {
		g.Expect(text).NotTo(ContainSubstring(bad), "the refresh token appears in %s", where)
	}
}

func TestKilledManagerRestartsWithoutExtraCalls(t *testing.T) {
	g := newGomega(t)
	ns := newNamespace(t)
	rt := "restart-" + rand.String(16)
	mustKubectl(t, secretYAML("creds", rt)+"---\n"+figmaTokenYAML("survivor", "creds"), "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/survivor", "--timeout=90s")
	g.Expect(fake.Calls(rt)).To(Equal(1))

	acquired := leaderAcquisitions(operator)
	operator.Kill()
	g.Expect(operator.Start()).To(Succeed())
	// The new process waits for the killed one's lease to lapse, then leads.
	g.Eventually(func() int { return leaderAcquisitions(operator) }, "2m").Should(BeNumerically(">", acquired), operator.Log)

	// It is working: a FigmaToken created now becomes Ready...
	mustKubectl(t, secretYAML("creds-after", "after-"+rand.String(16))+"---\n"+figmaTokenYAML("newcomer", "creds-after"), "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/newcomer", "--timeout=90s")
	// ...while the one refreshed before the crash needs no new call and stays Ready.
	g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1))
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/survivor", "--timeout=10s")
}
