package e2e

import (
	"encoding/json"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

// gitopsManager is the field manager Argo CD's server-side apply uses; Flux's is
// kustomize-controller. Either stands for "the Git version".
const gitopsManager = "argocd-controller"

// A GitOps tool that applied the samples sees no drift once the operator has reconciled them:
// the operator writes nothing into the FigmaToken's spec, and writing the access token into the
// Secret leaves the fields that Git holds (the refresh token) as they were.
func TestServerSideApplyOfTheSamplesShowsNoDrift(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	ns := newNamespace(t)
	applied := []string{"--server-side", "--field-manager=" + gitopsManager, "-n", ns, "-k", filepath.Join(root, "config", "samples")}
	mustKubectl(t, "", append([]string{"apply"}, applied...)...)
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/design-system", "--timeout=90s")
	g.Expect(mustKubectl(t, "", "get", "-n", ns, "secret/figma-credentials", "-o", "jsonpath={.data.accessToken}")).NotTo(BeEmpty(),
		"the operator wrote the access token into the Secret in place")

	// What Argo CD's and Flux's drift detection do: a server-side dry run of the Git version,
	// compared with the live objects. Exit status 0 is no difference, 1 is drift.
	out, err := kubectl(nil, append([]string{"diff", "--force-conflicts"}, applied...)...)
	g.Expect(err).NotTo(HaveOccurred(), "kubectl diff --server-side found drift after the operator reconciled:\n%s", out)

	for _, entry := range managedFields(t, ns, "figmatoken/design-system") {
		if entry.Manager == gitopsManager {
			continue
		}
		g.Expect(entry.FieldsV1).NotTo(HaveKey("f:spec"), "field manager %s (%s %s) owns part of the spec", entry.Manager, entry.Operation, entry.Subresource)
	}
	g.Expect(managedFields(t, ns, "figmatoken/design-system")).To(ContainElement(And(
		HaveField("Manager", Not(Equal(gitopsManager))), HaveField("Subresource", "status"))),
		"the operator wrote status, so the check above saw its entry")
}

// managedField is one entry of metadata.managedFields.
type managedField struct {
	Manager     string         `json:"manager"`
	Operation   string         `json:"operation"`
	Subresource string         `json:"subresource"`
	FieldsV1    map[string]any `json:"fieldsV1"`
}

func managedFields(t *testing.T, ns, object string) []managedField {
	t.Helper()
	var obj struct {
		Metadata struct {
			ManagedFields []managedField `json:"managedFields"`
		} `json:"metadata"`
	}
	out := mustKubectl(t, "", "get", "-n", ns, object, "--show-managed-fields", "-o", "json")
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("kubectl get %s: %v\n%s", object, err, out)
	}
	return obj.Metadata.ManagedFields
}
