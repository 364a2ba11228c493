package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/rand"

	assembly "github.com/tokenops/figma-token-operator/internal/operator"
)

// kubectl runs the suite's kubectl as the cluster admin; stdin may be nil.
func kubectl(stdin io.Reader, args ...string) (string, error) {
	return run(stdin, adminKubeconfig, args...)
}

// kubectlWith runs kubectl with another kubeconfig.
func kubectlWith(kubeconfig string, args ...string) (string, error) {
	return run(nil, kubeconfig, args...)
}

func run(stdin io.Reader, kubeconfig string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlBin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// mustKubectl runs kubectl and fails the test when it fails.
func mustKubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := kubectl(strings.NewReader(stdin), args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := "e2e-" + rand.String(6)
	mustKubectl(t, "", "create", "namespace", ns)
	return ns
}

func newGomega(t *testing.T) Gomega {
	g := NewWithT(t)
	g.SetDefaultEventuallyTimeout(90 * time.Second)
	g.SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	g.SetDefaultConsistentlyDuration(3 * time.Second)
	g.SetDefaultConsistentlyPollingInterval(200 * time.Millisecond)
	return g
}

// secretYAML and figmaTokenYAML render the test's objects for kubectl apply.
func secretYAML(name, refreshToken string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\nstringData:\n  refreshToken: %q\n", name, refreshToken)
}

func figmaTokenYAML(name, secret string) string {
	return fmt.Sprintf("apiVersion: figma.tokenops.dev/v1alpha1\nkind: FigmaToken\nmetadata:\n  name: %s\nspec:\n  secretRef:\n    name: %s\n", name, secret)
}

// managerProcess is the operator's manager binary running as its own process.
type managerProcess struct {
	binary, kubeconfig, logPath string
	extraArgs                   []string
	cmd                         *exec.Cmd
	exited                      chan struct{}
}

func (m *managerProcess) start() error {
	logFile, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	m.cmd = exec.Command(m.binary,
		"--kubeconfig", m.kubeconfig,
		"--amplify-endpoint", fakeURL,
		"--aws-region", "us-east-1",
		"--leader-elect", "--leader-election-namespace", "system",
		// Short leases so that a killed leader is replaced within seconds.
		"--leader-elect-lease-duration", "4s", "--leader-elect-renew-deadline", "3s", "--leader-elect-retry-period", "500ms",
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0",
		"--zap-log-level", "debug",
	)
	m.cmd.Args = append(m.cmd.Args, m.extraArgs...)
	m.cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+awsCreds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+awsCreds.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	)
	m.cmd.Stdout, m.cmd.Stderr = logFile, logFile
	if err := m.cmd.Start(); err != nil {
		_ = logFile.Close()
		return err
	}
	m.exited = make(chan struct{})
	go func() {
		_ = m.cmd.Wait()
		_ = logFile.Close()
		close(m.exited)
	}()
	return nil
}

// replaceOperator stops the suite's manager for the rest of a test and starts m instead;
// the suite's manager comes back when the test ends.
func replaceOperator(t *testing.T, m *managerProcess) {
	t.Helper()
	operator.stop() // graceful: it hands its lease back
	t.Cleanup(func() {
		m.stop()
		operator = &managerProcess{binary: m.binary, kubeconfig: operatorKubeconfig, logPath: filepath.Join(work, "manager.log")}
		if err := operator.start(); err != nil {
			t.Fatal(err)
		}
	})
	if err := m.start(); err != nil {
		t.Fatal(err)
	}
}

// kill ends the manager at once, as a crash or a node failure would: no lease release.
func (m *managerProcess) kill() {
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.exited
}

// stop ends the manager gracefully.
func (m *managerProcess) stop() {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(30 * time.Second):
		m.kill()
	}
}

func (m *managerProcess) log() string {
	data, _ := os.ReadFile(m.logPath)
	return string(data)
}

// leaderAcquisitions counts how often a manager became leader, from the log.
func (m *managerProcess) leaderAcquisitions() int {
	return strings.Count(m.log(), `"msg":"Successfully acquired lease","lock":"system/`+assembly.LeaderElectionID)
}
