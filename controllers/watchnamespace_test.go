package controllers_test

import (
	"testing"

	. "github.com/onsi/gomega"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/operator"
)

func TestWatchNamespaceNarrowsTheOperator(t *testing.T) {
	watched, ignored := newFixture(t), newFixture(t)
	restartManager(t, func(o *operator.Options) { o.WatchNamespaces = []string{watched.ns} })
	t.Cleanup(func() { restartManager(t) }) // back to all namespaces for the other tests

	ignoredToken := uniqueToken("ignored")
	ignored.createSecret("creds", map[string]string{"refreshToken": ignoredToken})
	ignored.createFigmaToken("outside", "creds")
	watched.createSecret("creds", map[string]string{"refreshToken": uniqueToken("watched")})
	watched.createFigmaToken("inside", "creds")

	watched.waitReady("inside")
	ignored.g.Consistently(ignored.condition("outside", figmav1alpha1.ConditionReady)).Should(BeEmpty())
	ignored.g.Expect(fake.Calls(ignoredToken)).To(BeZero())
	ignored.g.Expect(ignored.secret("creds").Data).NotTo(HaveKey("accessToken"))
}
