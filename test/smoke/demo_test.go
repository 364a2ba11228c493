package smoke

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/harness"
)

// make demo DURATION=... must stop by itself, exit 0 and report the refreshes it showed.
func TestDemoRunsAndStopsByItself(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	text := runCommand(t, "hack/demo", "-duration", "25s", "-token-lifetime", "9s")
	g.Expect(text).To(ContainSubstring("get figmatokens -w"))
	g.Expect(text).To(ContainSubstring("design-system Ready=True (Refreshed)"))
	g.Expect(text).To(ContainSubstring("design-app Ready=True (Refreshed)"), "the FigmaToken on the Figma upstream")
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

// make demo run until Ctrl-C: a refresh requested with the annotation is narrated as
// requested and answered, each once, and a suspend and a resume as such; Ctrl-C stops it
// cleanly, with the summary, and takes away what it made: the operator's process and the
// kubeconfig.
func TestDemoAnswersARequestedRefreshAndCtrlCCleansUp(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	root, err := harness.RepoRoot()
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	binary := filepath.Join(t.TempDir(), "demo")
	g.Expect(harness.GoBuild(ctx, root, binary, "./hack/demo")).To(Succeed())
	kubeconfig := filepath.Join(t.TempDir(), "demo.kubeconfig")
	demo := exec.CommandContext(ctx, binary, "-token-lifetime", "1h", "-kubeconfig-out", kubeconfig,
		"-manager-log", filepath.Join(t.TempDir(), "manager.log"))
	demo.Dir = root
	out := &harness.Output{}
	demo.Stdout, demo.Stderr = out, out
	g.Expect(demo.Start()).To(Succeed())
	defer func() { _ = demo.Process.Kill() }()
	exited := make(chan error, 1)
	go func() { exited <- demo.Wait() }()
	// output is what the demo printed so far; polling stops if it exits.
	output := func() string {
		select {
		case err := <-exited:
			StopTrying(fmt.Sprintf("the demo exited: %v", err)).Now()
		default:
		}
		return out.String()
	}

	g.Eventually(output, 5*time.Minute, 100*time.Millisecond).Should(ContainSubstring("design-system Ready=True (Refreshed)"))
	pid := regexp.MustCompile(`operator started \(bin/manager, pid (\d+)\)`).FindStringSubmatch(out.String())
	g.Expect(pid).NotTo(BeNil(), "%s", out)
	requested := time.Now().UTC().Format(time.RFC3339)
	annotate := exec.CommandContext(ctx, filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), "--kubeconfig", kubeconfig,
		"-n", "default", "annotate", "figmatoken", "design-system", "--overwrite", figmav1alpha1.AnnotationRefreshRequestedAt+"="+requested)
	g.Expect(annotate.CombinedOutput()).Error().NotTo(HaveOccurred())
	g.Eventually(output, time.Minute, 100*time.Millisecond).Should(ContainSubstring("refreshed as requested"))
	g.Expect(output()).To(ContainSubstring("design-system: refresh requested ("+figmav1alpha1.AnnotationRefreshRequestedAt+"="+requested+")"),
		"the request is narrated, however soon it was answered")

	// A suspend and a resume are narrated too.
	suspend := func(on string) {
		patch := exec.CommandContext(ctx, filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), "--kubeconfig", kubeconfig,
			"-n", "default", "patch", "figmatoken", "design-system", "--type=merge", "-p", `{"spec":{"suspend":`+on+`}}`)
		g.Expect(patch.CombinedOutput()).Error().NotTo(HaveOccurred())
	}
	suspend("true")
	g.Eventually(output, time.Minute, 100*time.Millisecond).Should(ContainSubstring("design-system suspended (spec.suspend=true)"))
	suspend("false")
	g.Eventually(output, time.Minute, 100*time.Millisecond).Should(ContainSubstring("design-system resumed (spec.suspend=false)"))

	g.Expect(demo.Process.Signal(os.Interrupt)).To(Succeed())
	g.Eventually(exited, time.Minute).Should(Receive(BeNil()), "%s", out)
	text := out.String()
	g.Expect(strings.Count(text, "refresh requested ("+figmav1alpha1.AnnotationRefreshRequestedAt+"="+requested+")")).To(Equal(1), text)
	g.Expect(strings.Count(text, "refreshed as requested")).To(Equal(1), text)
	g.Expect(strings.Count(text, "design-system Ready=True (Refreshed)")).To(Equal(1), "each state once:\n%s", text)
	g.Expect(strings.Count(text, "design-app Ready=True (Refreshed)")).To(Equal(1), "each state once:\n%s", text)
	// design-system's first token and the one requested (Amplify), design-app's first (Figma).
	g.Expect(text).To(MatchRegexp(`refreshes made:\s+3 \(upstream calls 3, failed 0\)`))
	g.Expect(kubeconfig).NotTo(BeAnExistingFile(), "Ctrl-C removes the kubeconfig")
	manager, _ := strconv.Atoi(pid[1])
	g.Expect(syscall.Kill(manager, 0)).To(MatchError(syscall.ESRCH), "Ctrl-C stops the operator")
}
