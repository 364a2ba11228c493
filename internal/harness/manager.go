package harness

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Manager is the operator's manager binary running as its own process, as users deploy it.
type Manager struct {
	Binary, Kubeconfig string
	// Endpoint is the fake Amplify endpoint's URL.
	Endpoint string
	// FigmaEndpoint, when set, is the fake Figma endpoint's URL (--figma-endpoint).
	FigmaEndpoint string
	// LogPath receives the manager's output, appended to across restarts.
	LogPath string
	// Args follow the defaults: the kubeconfig, the endpoint and region, no metrics, no probes.
	Args []string
	// AsDeployed runs the manager with Args and Env as a Deployment gives them: only the
	// kubeconfig and the endpoint are added (the region must come from Args or Env), and no
	// AWS region from this process's environment reaches it.
	AsDeployed bool
	// Env is added to the process's environment.
	Env []string

	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts the process in its own process group, so that a Ctrl-C meant for the caller
// does not reach it and the caller stops it in order.
func (m *Manager) Start() error {
	logFile, err := os.OpenFile(m.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	args := append([]string{"--kubeconfig", m.Kubeconfig, "--amplify-endpoint", m.Endpoint, "--aws-region", Region,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0"}, m.Args...)
	env := os.Environ()
	if m.AsDeployed {
		args = append([]string{"--kubeconfig", m.Kubeconfig, "--amplify-endpoint", m.Endpoint}, m.Args...)
		env = slices.DeleteFunc(env, func(kv string) bool {
			return strings.HasPrefix(kv, "AWS_REGION=") || strings.HasPrefix(kv, "AWS_DEFAULT_REGION=")
		})
	}
	if m.FigmaEndpoint != "" {
		args = append(args, "--figma-endpoint", m.FigmaEndpoint)
	}
	m.cmd = exec.Command(m.Binary, args...)
	m.cmd.Env = append(append(env, awsEnv()...), m.Env...)
	m.cmd.Stdout, m.cmd.Stderr = logFile, logFile
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := m.cmd.Start(); err != nil {
		_ = logFile.Close()
		return err
	}
	exited := make(chan struct{})
	m.exited = exited
	go func() {
		_ = m.cmd.Wait()
		_ = logFile.Close()
		close(exited)
	}()
	return nil
}

// Exited is closed when the process has ended.
func (m *Manager) Exited() <-chan struct{} { return m.exited }

// Pid is the process ID.
func (m *Manager) Pid() int { return m.cmd.Process.Pid }

// Kill ends the process at once, as a crash or a node failure would: no lease release.
func (m *Manager) Kill() {
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.exited
}

// Pause stops the process without ending it (SIGSTOP), as a frozen node or a suspended VM
// would; Resume lets it go on (SIGCONT).
func (m *Manager) Pause() error { return m.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume lets a paused process go on.
func (m *Manager) Resume() error { return m.cmd.Process.Signal(syscall.SIGCONT) }

// Stop ends the process gracefully (it hands its lease back), or kills it after 30 s.
func (m *Manager) Stop() {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(30 * time.Second):
		m.Kill()
	}
}

// Log is what the process wrote so far.
func (m *Manager) Log() string {
	data, _ := os.ReadFile(m.LogPath)
	return string(data)
}
