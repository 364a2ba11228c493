package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/rand"
)

// kubectl figmatoken consumers against pods on the real API server (no kubelet: the test
// reports container start times through the status subresource, as a kubelet does): a
// volume, a projected volume, a subPath, an env and an envFrom consumer, each judged from
// its start and the Secret's refreshed-at and expires-at; exit 1 while one is stale; the
// status line, left out for a user who may not list pods.
func TestKubectlPluginConsumers(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	ns := newNamespace(t)
	dir := buildPlugin(t)
	mustPlugin := func(args ...string) string {
		t.Helper()
		out, err := runPlugin(dir, append([]string{"-n", ns}, args...)...)
		if err != nil {
			t.Fatalf("kubectl figmatoken %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	mustKubectl(t, secretYAML("creds", "consumers-"+rand.String(16))+"---\n"+figmaTokenYAML("design", "creds"), "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/design", "--timeout=90s")
	annotation := func(name string) time.Time {
		out := mustKubectl(t, "", "get", "secret/creds", "-n", ns, "-o", `jsonpath={.metadata.annotations.figma\.tokenops\.dev/`+name+`}`)
		at, err := time.Parse(time.RFC3339, out)
		if err != nil {
			t.Fatalf("annotation %s: %v", name, err)
		}
		return at
	}
	refreshed, expires := annotation("refreshed-at"), annotation("expires-at")
	lifetime := expires.Sub(refreshed)

	// Each pod's container "app" reaches the token one way and started at the time given
	// (relative to the refresh); "pending" has not started.
	pods := []struct {
		name    string
		spec    string
		running bool
		started time.Duration
	}{
		{"by-volume", volumeSpec("secret: {secretName: creds}", ""), true, -3 * time.Hour},
		{"by-projected", volumeSpec("projected: {sources: [{secret: {name: creds}}]}", ""), true, -3 * time.Hour},
		{"by-subpath", volumeSpec("secret: {secretName: creds}", "accessToken"), true, -10 * time.Minute},
		{"by-env", containerSpec("env: [{name: FIGMA_TOKEN, valueFrom: {secretKeyRef: {name: creds, key: accessToken}}}]"), true, -2 * time.Hour},
		{"by-envfrom", containerSpec("envFrom: [{prefix: FIGMA_, secretRef: {name: creds}}]"), true, 0},
		{"refresh-token-only", containerSpec("env: [{name: RT, valueFrom: {secretKeyRef: {name: creds, key: refreshToken}}}]"), true, -time.Hour},
		{"pending", containerSpec("env: [{name: FIGMA_TOKEN, valueFrom: {secretKeyRef: {name: creds, key: accessToken}}}]"), false, 0},
	}
	for _, p := range pods {
		mustKubectl(t, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: "+p.name+"\nspec:\n"+p.spec, "apply", "-n", ns, "-f", "-")
		if !p.running {
			continue
		}
		started := refreshed.Add(p.started).UTC().Format(time.RFC3339)
		status := fmt.Sprintf(`{"status":{"phase":"Running","containerStatuses":[{"name":"app","image":"example.com/app:1","imageID":"","ready":true,"restartCount":0,"started":true,"state":{"running":{"startedAt":%q}}}]}}`, started)
		mustKubectl(t, "", "patch", "pod", p.name, "-n", ns, "--subresource=status", "--type=merge", "-p", status)
	}

	// Times as the JSON has them: RFC 3339, UTC; "" when absent. Sorted by pod, then container.
	type consumer struct {
		Pod, Container, Way, Via, Holds string
		StartedAt, ExpiresBy            string
		Stale                           bool
	}
	var report struct {
		Secret, Key, Within string
		Stale               int
		Consumers           []consumer
	}
	out, err := runPlugin(dir, "-n", ns, "consumers", "design", "--within", "10m", "-o", "json")
	g.Expect(exitCode(err)).To(Equal(1), "a stale consumer: exit 1\n%s", out)
	g.Expect(json.Unmarshal([]byte(out), &report)).To(Succeed(), out)
	g.Expect([]any{report.Secret, report.Key, report.Within, report.Stale}).To(Equal([]any{"creds", "accessToken", "10m", 1}))
	at := func(d time.Duration) string { return refreshed.Add(d).UTC().Format(time.RFC3339) }
	expiry := expires.UTC().Format(time.RFC3339)
	g.Expect(report.Consumers).To(Equal([]consumer{
		{"by-env", "app", "env", "FIGMA_TOKEN", "older", at(-2 * time.Hour), at(-2*time.Hour + lifetime), true},
		{"by-envfrom", "app", "envFrom", "FIGMA_accessToken", "current-or-older", at(0), expiry, false},
		{"by-projected", "app", "volume", "projected volume figma", "follows", at(-3 * time.Hour), expiry, false},
		{"by-subpath", "app", "subPath", "figma subPath accessToken", "older", at(-10 * time.Minute), at(-10*time.Minute + lifetime), false},
		{"by-volume", "app", "volume", "figma", "follows", at(-3 * time.Hour), expiry, false},
		{"pending", "app", "env", "FIGMA_TOKEN", "not-running", "", "", false},
	}), out)

	// The table says the same, with the stale one marked and the exit status 1.
	out, err = runPlugin(dir, "-n", ns, "consumers", "design", "--within", "10m")
	g.Expect(exitCode(err)).To(Equal(1), out)
	g.Expect(out).To(MatchRegexp(`(?m)^by-env\s+app\s+env\s+FIGMA_TOKEN\s+.+\s+older\s+expired\s+yes$`))
	g.Expect(out).To(MatchRegexp(`(?m)^by-subpath\s+app\s+subPath\s+figma subPath accessToken\s+.+\s+older\s+\S+\s+no$`))
	g.Expect(out).To(ContainSubstring("1 of 6 consumers hold a token that has expired or expires within 10m"))

	// Once the stale pod is gone, nothing is stale within 10 minutes: exit 0. Within two
	// hours the subPath consumer's older token lapses: exit 1.
	mustKubectl(t, "", "delete", "pod", "by-env", "-n", ns, "--wait=false")
	g.Eventually(func() error { _, err := runPlugin(dir, "-n", ns, "consumers", "design", "--within", "10m"); return err }).Should(Succeed())
	out, err = runPlugin(dir, "-n", ns, "consumers", "design", "--within", "2h")
	g.Expect(exitCode(err)).To(Equal(1), out)
	g.Expect(out).To(MatchRegexp(`(?m)^by-subpath\s+.+\s+yes$`))

	// status counts them (24h: every frozen consumer of the suite's one-hour tokens is stale).
	out = mustPlugin("status", "design")
	g.Expect(out).To(ContainSubstring("Consumers:          5 uses in 5 pods, 2 stale (a token that expires within 24h, not renewed until a restart): kubectl figmatoken consumers design -n " + ns))

	// A user who may read the FigmaToken, its Secret and Events but not list pods sees no
	// consumers line, and status still succeeds.
	mustKubectl(t, `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: no-pods
rules:
- apiGroups: [figma.tokenops.dev]
  resources: [figmatokens]
  verbs: [get, list]
- apiGroups: [""]
  resources: [secrets, events]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: no-pods
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: no-pods}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: no-pods}]
`, "apply", "-n", ns, "-f", "-")
	g.Eventually(func() (string, error) { return runPlugin(dir, "-n", ns, "--as", "no-pods", "status", "design") }).Should(ContainSubstring("Verdict:"))
	out = mustPlugin("--as", "no-pods", "status", "design")
	g.Expect(out).To(ContainSubstring("Secret creds (source and access token):"))
	g.Expect(out).NotTo(ContainSubstring("Consumers:"))
}

// volumeSpec is a pod spec whose container mounts a volume "figma" of the given source,
// with subPath when given.
func volumeSpec(source, subPath string) string {
	mount := "{name: figma, mountPath: /figma}"
	if subPath != "" {
		mount = "{name: figma, mountPath: /figma/token, subPath: " + subPath + "}"
	}
	return "  volumes: [{name: figma, " + source + "}]\n" + containerSpec("volumeMounts: ["+mount+"]")
}

// containerSpec is a pod spec with one container "app" and the given field.
func containerSpec(field string) string {
	return "  containers:\n  - name: app\n    image: example.com/app:1\n    " + field + "\n"
}
