package smoke

import (
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/tokenops/figma-token-operator/internal/harness"
)

// make demo DURATION=... must stop by itself, exit 0 and report the refreshes it showed.
func TestDemoRunsAndStopsByItself(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	text := runCommand(t, "demo", "-duration", "25s", "-token-lifetime", "9s")
	g.Expect(text).To(ContainSubstring("get figmatokens -w"))
	g.Expect(text).To(ContainSubstring("design-system Ready=True (Refreshed)"))
	made := regexp.MustCompile(`refreshes made:\s+(\d+) \(upstream calls (\d+), failed 0\)`).FindStringSubmatch(text)
	g.Expect(made).NotTo(BeNil(), "%s", text)
	refreshes, _ := strconv.Atoi(made[1])
	g.Expect(refreshes).To(BeNumerically(">=", 3), "9-second tokens over 25 seconds")
	g.Expect(text).To(MatchRegexp(`tokens that lapsed:\s+0`))
	g.Expect(text).NotTo(ContainSubstring("log.SetLogger(...) was never called"), "the harness sets a logger before the control plane starts")
	root, err := harness.RepoRoot()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(filepath.Join(root, "bin", "demo.kubeconfig")).NotTo(BeAnExistingFile(), "the demo removes its kubeconfig")
}
