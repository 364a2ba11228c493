package e2e

import (
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/rand"
)

// Sharding as Flux does it: instances side by side, each with its own label selector and
// Lease; the default instance takes what no shard selects. Every FigmaToken is refreshed by
// exactly one of them, and both lead at once.
func TestShardsEachRefreshTheirOwnFigmaTokens(t *testing.T) {
	g := newGomega(t)
	ns := newNamespace(t)
	shard := newManager(operatorKubeconfig, "shard-b.log", "--watch-label-selector=figma.tokenops.dev/shard=b")
	rest := newManager(operatorKubeconfig, "shard-default.log", "--watch-label-selector=figma.tokenops.dev/shard notin (b)")
	replaceOperator(t, rest)
	if err := shard.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(shard.Stop)

	tokens := map[string]string{"a": "shard-a-" + rand.String(12), "b": "shard-b-" + rand.String(12)}
	applyShardedFigmaTokens(t, ns, tokens, map[string]string{"b": "b"})
	for _, rt := range tokens {
		g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1))
	}
	reconciled := func(log, name string) bool {
		return strings.Contains(log, fmt.Sprintf(`"FigmaToken":{"name":%q,"namespace":%q}`, name, ns))
	}
	g.Expect(reconciled(shard.Log(), "b")).To(BeTrue(), "the shard reconciles the FigmaToken it selects")
	g.Expect(reconciled(shard.Log(), "a")).To(BeFalse(), "the shard never sees the others")
	g.Expect(reconciled(rest.Log(), "a")).To(BeTrue())
	g.Expect(reconciled(rest.Log(), "b")).To(BeFalse(), "the default instance leaves the shard's FigmaTokens alone")
	g.Expect(mustKubectl(t, "", "get", "leases", "-n", "system", "-o", "name")).To(
		ContainSubstring("figma-token-operator.figma.tokenops.dev-"), "each selector has its own Lease")
}
