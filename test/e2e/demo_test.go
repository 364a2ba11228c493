package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// make demo DURATION=... must stop by itself, exit 0 and report the refreshes it showed.
func TestDemoRunsAndStopsByItself(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	demo := filepath.Join(work, "demo")
	g.Expect(build(demo, root, "./hack/demo")).To(Succeed())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, demo, "-duration", "25s", "-token-lifetime", "9s")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "%s", out)

	text := string(out)
	g.Expect(text).To(ContainSubstring("get figmatokens -w"))
	g.Expect(text).To(ContainSubstring("design-system Ready=True (Refreshed)"))
	made := regexp.MustCompile(`refreshes made:\s+(\d+) \(upstream calls (\d+), failed 0\)`).FindStringSubmatch(text)
	g.Expect(made).NotTo(BeNil(), "%s", out)
	refreshes, _ := strconv.Atoi(made[1])
	g.Expect(refreshes).To(BeNumerically(">=", 3), "9-second tokens over 25 seconds")
	g.Expect(text).To(MatchRegexp(`tokens that lapsed:\s+0`))
	g.Expect(text).NotTo(ContainSubstring("log.SetLogger(...) was never called"), "the harness sets a logger before the control plane starts")
	g.Expect(filepath.Join(root, "bin", "demo.kubeconfig")).NotTo(BeAnExistingFile(), "the demo removes its kubeconfig")
}
