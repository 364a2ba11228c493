package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/tokenops/figma-token-operator/internal/harness"
)

// The manager's binary as an administrator meets it: --version, and settings that can never
// work refused at once with one line that says what to set.

func TestVersionPrintsTheVersionAndExits(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(filepath.Join(work, "manager"), "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "figma-token-operator dev (") || strings.Count(string(out), "\n") != 1 {
		t.Fatalf("--version printed %q", out)
	}
}

func TestStartupLogNamesTheVersionAndSettings(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	g.Eventually(operator.Log).Should(ContainSubstring(`"msg":"starting manager"`))
	for _, line := range strings.Split(operator.Log(), "\n") {
		if strings.Contains(line, `"msg":"starting manager"`) {
			g.Expect(line).To(And(ContainSubstring(`"version":"dev"`), ContainSubstring(`"awsRegion":"us-east-1"`),
				ContainSubstring(`"amplifyEndpoint":"`+fakeURL+`"`), ContainSubstring(`"rolloutRestarts":false`)))
			g.Expect(line).NotTo(ContainSubstring(harness.Credentials.SecretAccessKey))
		}
	}
}

func TestSettingsThatCanNeverWorkStopTheManager(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		args  []string
		names []string
	}{
		"an unparsable endpoint":       {args: []string{"--aws-region", "us-east-1", "--amplify-endpoint", "amplify.local:443"}, names: []string{"amplify.local:443"}},
		"an unparsable Figma endpoint": {args: []string{"--figma-endpoint", "api.figma.local"}, names: []string{"api.figma.local"}},
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(filepath.Join(work, "manager"), append([]string{"--kubeconfig", operatorKubeconfig,
				"--metrics-bind-address", "0", "--health-probe-bind-address", "0"}, tt.args...)...)
			cmd.Env = append(withoutAWS(os.Environ()), "AWS_EC2_METADATA_DISABLED=true",
				"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the manager started; output:\n%s", out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			last := lines[len(lines)-1]
			for _, want := range tt.names {
				if !strings.Contains(last, want) {
					t.Errorf("the last line %q does not name %s", last, want)
				}
			}
			if strings.Contains(string(out), "goroutine ") || strings.Contains(string(out), ".go:") && strings.Contains(string(out), "stacktrace") {
				t.Errorf("the refusal carries a stack trace:\n%s", out)
			}
		})
	}
}

// Without an AWS region the manager starts, with the Amplify upstream off: Figma-only users
// need no AWS at all. It says so once, naming what to set.
func TestAManagerWithoutARegionStartsWithTheAmplifyUpstreamOff(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	// A namespace and a selector nothing matches: it must not reconcile the suite's FigmaTokens.
	cmd := exec.Command(filepath.Join(work, "manager"), "--kubeconfig", operatorKubeconfig,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0",
		"--watch-namespace", "no-region", "--watch-label-selector", "figma.tokenops.dev/shard=no-region")
	cmd.Env = append(withoutAWS(os.Environ()), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out := &harness.Output{}
	cmd.Stdout, cmd.Stderr = out, out
	g.Expect(cmd.Start()).To(Succeed())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	g.Eventually(out.String).Should(ContainSubstring(`"msg":"starting manager"`))
	g.Expect(out.String()).To(And(ContainSubstring("the Amplify upstream is off until --aws-region or AWS_REGION is set"),
		ContainSubstring(`"awsRegion":""`), ContainSubstring(`"figmaEndpoint":"https://api.figma.com"`)))
	g.Expect(strings.Count(out.String(), "the Amplify upstream is off")).To(Equal(1))
}

// withoutAWS drops the AWS_* variables of the test's own environment.
func withoutAWS(env []string) []string {
	var kept []string
	for _, e := range env {
		if !strings.HasPrefix(e, "AWS_") {
			kept = append(kept, e)
		}
	}
	return kept
}
