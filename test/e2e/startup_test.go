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
		"no AWS region":          {args: nil, names: []string{"--aws-region", "AWS_REGION"}},
		"an unparsable endpoint": {args: []string{"--aws-region", "us-east-1", "--amplify-endpoint", "amplify.local:443"}, names: []string{"amplify.local:443"}},
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
