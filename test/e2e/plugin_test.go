package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// kubectl figmatoken as users run it: the plugin binary found on PATH by the suite's real
// kubectl, against the real API server and the manager, with the admin's kubeconfig. It
// explains a Ready, a Stalled and a target FigmaToken, renews with --wait (refreshed,
// refused, and never handled), lists by urgency, and prints no token anywhere.
func TestKubectlPluginStatusRenewAndGet(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	ns := newNamespace(t)
	pluginDir := buildPlugin(t)
	var printed []string
	plugin := func(args ...string) (string, error) {
		out, err := runPlugin(pluginDir, append([]string{"-n", ns}, args...)...)
		printed = append(printed, out)
		return out, err
	}
	mustPlugin := func(args ...string) string {
		t.Helper()
		out, err := plugin(args...)
		if err != nil {
			t.Fatalf("kubectl figmatoken %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	good, bad, forTarget := "plugin-good-"+rand.String(16), "plugin-bad-"+rand.String(16), "plugin-target-"+rand.String(16)
	fake.SetBehavior(bad, fakeamplify.Behavior{Reject: true})
	mustKubectl(t, secretYAML("creds", good)+"---\n"+figmaTokenYAML("design", "creds")+
		"---\n"+secretYAML("creds-bad", bad)+"---\n"+figmaTokenYAML("rejected", "creds-bad")+
		"---\n"+secretYAML("creds-target", forTarget)+"---\n"+figmaTokenYAML("with-target", "creds-target")+"  target:\n    name: figma-access\n"+
		"---\n"+figmaTokenYAML("orphan", "missing"),
		"apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/design", "figmatoken/with-target", "--timeout=90s")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Stalled", "figmatoken/rejected", "figmatoken/orphan", "--timeout=90s")

	// status of a Ready FigmaToken: its Secret's keys, that it holds this token, the owner,
	// the Refreshed Event, and nothing to do.
	g.Eventually(func() string { out, _ := plugin("status", "design"); return out }).Should(MatchRegexp(`Normal\s+Refreshed`))
	out := mustPlugin("status", "design")
	g.Expect(out).To(MatchRegexp(`Ready\s+True\s+Refreshed`))
	for _, want := range []string{
		"Secret creds (source and access token):",
		"accessToken (", "refreshToken (",
		`"accessToken" holds the token this FigmaToken wrote`,
		"figma.tokenops.dev/owner=design (this FigmaToken)",
		"Failed attempts:  0\n",
		"Verdict:            Ready: the token expires in ",
		"Nothing to do.",
	} {
		g.Expect(out).To(ContainSubstring(want))
	}

	// status of a Stalled one: the failure streak and what to do.
	out = mustPlugin("status", "rejected")
	g.Expect(out).To(MatchRegexp(`Stalled\s+True\s+RefreshRejected`))
	g.Expect(out).To(MatchRegexp(`Failed attempts:\s+\d+ in a row, the last`))
	g.Expect(out).To(MatchRegexp(`Warning\s+RefreshRejected`))
	g.Expect(out).To(ContainSubstring("Verdict:            Stalled (RefreshRejected): "))
	g.Expect(out).To(ContainSubstring("re-consent in Figma, then put a new refresh token or authorization code in Secret creds-bad"))

	// status of a target FigmaToken: both Secrets, the target owned by ownerReference.
	out = mustPlugin("status", "with-target")
	g.Expect(out).To(ContainSubstring("Secret creds-target (source: the refresh token):"))
	g.Expect(out).To(ContainSubstring("Secret figma-access (target: the access token):"))
	g.Expect(out).To(ContainSubstring("ownerReference FigmaToken/with-target (controller) (this FigmaToken)"))
	g.Expect(out).To(ContainSubstring(`"accessToken" holds the token this FigmaToken wrote`))

	// renew --wait: one more upstream call, the request handled, the outcome printed.
	calls := fake.Calls(good)
	out = mustPlugin("renew", "design", "--wait", "--timeout", "90s")
	g.Expect(out).To(MatchRegexp(`(?m)^` + ns + `/design: refresh requested \(figma.tokenops.dev/refresh-requested-at=\S+\)$`))
	g.Expect(out).To(MatchRegexp(`(?m)^` + ns + `/design: refreshed: Ready=True Refreshed: .*; the token expires in `))
	g.Expect(fake.Calls(good)).To(Equal(calls + 1))
	requested := mustKubectl(t, "", "get", "-n", ns, "figmatoken/design", "-o", `jsonpath={.metadata.annotations.figma\.tokenops\.dev/refresh-requested-at}`)
	g.Expect(mustKubectl(t, "", "get", "-n", ns, "figmatoken/design", "-o", "jsonpath={.status.lastHandledRefreshRequest}")).To(Equal(requested))

	// renew --wait of a refused refresh token: handled at once (not on the slow schedule),
	// reported as failed, exit status 1.
	out, err := plugin("renew", "rejected", "--wait", "--timeout", "90s")
	g.Expect(err).To(HaveOccurred(), out)
	g.Expect(out).To(MatchRegexp(`(?m)^` + ns + `/rejected: refresh failed \(\d+ in a row\): RefreshRejected: `))

	// renew --wait of a FigmaToken a blocker holds (its Secret is missing): never handled, so
	// it times out, says why and exits 1.
	out, err = plugin("renew", "orphan", "--wait", "--timeout", "3s")
	g.Expect(err).To(HaveOccurred(), out)
	g.Expect(out).To(ContainSubstring(ns + "/orphan: not handled within 3s: Stalled (SecretNotFound): create Secret missing in namespace " + ns))

	// get -A: every namespace, this one's rows most urgent first.
	out = mustPlugin("get", "-A")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	g.Expect(strings.Fields(lines[0])).To(Equal([]string{"NAMESPACE", "NAME", "READY", "REASON", "EXPIRES", "NEXT-REFRESH", "CLIENT", "AGE"}))
	var mine [][]string
	for _, line := range lines[1:] {
		if fields := strings.Fields(line); fields[0] == ns {
			mine = append(mine, fields)
		}
	}
	g.Expect(mine).To(HaveLen(4), out)
	g.Expect(mine[0][1:4]).To(Equal([]string{"orphan", "False", "SecretNotFound"}))
	g.Expect(mine[1][1:4]).To(Equal([]string{"rejected", "False", "RefreshRejected"}))
	for _, row := range mine[2:] {
		g.Expect(row[2:4]).To(Equal([]string{"True", "Refreshed"}))
		g.Expect(row[4]).To(MatchRegexp(`^\d+m(\d+s)?$`)) // an hour's token: minutes left
	}
	// Without -A: no NAMESPACE column.
	g.Expect(strings.Fields(strings.SplitN(mustPlugin("get"), "\n", 2)[0])[0]).To(Equal("NAME"))

	// No token, refresh or access, in anything the plugin printed.
	tokens := []string{good, bad, forTarget}
	for _, rt := range []string{good, forTarget} {
		tokens = append(tokens, fake.IssuedFor(rt)...)
	}
	g.Expect(len(tokens)).To(BeNumerically(">=", 6))
	all := strings.Join(printed, "\n")
	for _, token := range tokens {
		g.Expect(all).NotTo(ContainSubstring(token), "the plugin printed a token")
	}
	t.Logf("kubectl figmatoken printed:\n%s", all)
}

var (
	pluginOnce     sync.Once
	pluginBuildErr error
)

// buildPlugin builds the plugin once per run, for the tests that run it side by side, and
// returns its folder.
func buildPlugin(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(work, "plugin-bin")
	pluginOnce.Do(func() {
		pluginBuildErr = build(filepath.Join(dir, "kubectl-figmatoken"), root, "./cmd/kubectl-figmatoken")
	})
	if pluginBuildErr != nil {
		t.Fatal(pluginBuildErr)
	}
	return dir
}

// runPlugin runs "kubectl figmatoken ARGS" with the plugin's folder first on PATH, as the
// admin. kubectl finds a plugin only by the words before the first flag, so the
// connection flags follow the plugin's name and the plugin reads them itself.
func runPlugin(pluginDir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlBin, append([]string{"figmatoken", "--kubeconfig", adminKubeconfig}, args...)...)
	cmd.Env = append(os.Environ(), "PATH="+pluginDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
