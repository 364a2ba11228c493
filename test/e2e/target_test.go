package e2e

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// spec.target through kubectl, with the manager bound to nothing but the generated RBAC and
// an API server that enforces OwnerReferencesPermissionEnforcement: creating the target with
// a blocking ownerReference works with exactly those permissions.
func TestTargetSecretWithTheGeneratedRBAC(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	ns := newNamespace(t)
	readyWithTarget(t, ns)

	owner := mustKubectl(t, "", "get", "-n", ns, "secret/figma-access", "-o",
		`jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} block={.metadata.ownerReferences[0].blockOwnerDeletion}`)
	g.Expect(owner).To(Equal("FigmaToken/design block=true"))
	keys := mustKubectl(t, "", "get", "-n", ns, "secret/figma-access", "-o", `go-template={{range $k, $v := .data}}{{$k}} {{end}}`)
	g.Expect(strings.Fields(keys)).To(ConsistOf("accessToken"))
	g.Expect(mustKubectl(t, "", "get", "-n", ns, "figmatoken/design", "-o", "jsonpath={.status.secretName}")).To(Equal("figma-access"))
}

// readyWithTarget applies a Secret "creds" and a FigmaToken "design" whose access token goes
// to the target Secret "figma-access", and waits until it is Ready.
func readyWithTarget(t *testing.T, ns string) {
	t.Helper()
	mustKubectl(t, secretYAML("creds", "e2e-target-"+ns), "apply", "-n", ns, "-f", "-")
	mustKubectl(t, figmaTokenYAML("design", "creds")+"  target:\n    name: figma-access\n    labels: {app: web}\n", "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/design", "--timeout=90s")
}
