package controllers_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/rand"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/harness"
)

func TestSamplesWorkTogether(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	root, err := harness.RepoRoot()
	f.g.Expect(err).NotTo(HaveOccurred())
	read := func(name string, into any) {
		data, err := os.ReadFile(filepath.Join(root, "config", "samples", name))
		f.g.Expect(err).NotTo(HaveOccurred())
		f.g.Expect(yaml.UnmarshalStrict(data, into)).To(Succeed())
	}
	secret := &corev1.Secret{}
	read("figma-credentials-secret.yaml", secret)
	ft := &figmav1alpha1.FigmaToken{}
	read("figma_v1alpha1_figmatoken.yaml", ft)
	secret.Namespace, ft.Namespace = f.ns, f.ns

	f.g.Expect(k8s.Create(context.Background(), secret)).To(Succeed())
	f.g.Expect(k8s.Create(context.Background(), ft)).To(Succeed())
	f.waitReady(ft.Name)
	f.g.Expect(f.secret(secret.Name).Data).To(HaveKey("accessToken"))
	f.g.Expect(f.secret(secret.Name).Data).To(HaveKey("expiresAt"))

	// The Figma upstream's sample: its OAuth client, and a FigmaToken through it.
	figmaFake.SetClient("sample-figma-client-id", "sample-figma-client-secret")
	for _, name := range []string{"figma_v1alpha1_figmaoauthclient.yaml", "figma_v1alpha1_figmatoken_figma.yaml"} {
		data, err := os.ReadFile(filepath.Join(root, "config", "samples", name))
		f.g.Expect(err).NotTo(HaveOccurred())
		for _, doc := range strings.Split(string(data), "\n---\n") {
			obj := &unstructured.Unstructured{}
			f.g.Expect(yaml.Unmarshal([]byte(doc), &obj.Object)).To(Succeed())
			obj.SetNamespace(f.ns)
			f.g.Expect(k8s.Create(context.Background(), obj)).To(Succeed())
		}
	}
	f.waitReady("design-app")
	f.g.Expect(figmaFake.Calls("sample-figma-app-refresh-token")).To(BeNumerically(">=", 1))
}

// The platform team's example client is accepted by the API server as it is.
func TestThePlatformExampleClientIsValid(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	root, err := harness.RepoRoot()
	g.Expect(err).NotTo(HaveOccurred())
	data, err := os.ReadFile(filepath.Join(root, "examples", "platform", "cluster-oauth-client.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	client := &figmav1alpha1.ClusterFigmaOAuthClient{}
	g.Expect(yaml.UnmarshalStrict(data, client)).To(Succeed())
	client.Name += "-example-" + rand.String(6)
	g.Expect(k8s.Create(context.Background(), client, ctrlclient.DryRunAll)).To(Succeed())
}
