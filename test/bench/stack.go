package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/harness"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// stack is one fresh control plane with the fake endpoint and, once started, the operator
// behind a counting proxy.
type stack struct {
	name     string
	root     string
	manager  string
	args     []string // extra manager flags
	cluster  *harness.ControlPlane
	client   client.WithWatch // the benchmark's own client: not rate limited, not measured
	proxy    *harness.APIProxy
	fake     *harness.Endpoint
	operator *harness.Manager
	pprof    string // the operator's pprof address, "" when not profiled
}

func (b *bench) cluster(name string) (*stack, error) {
	s := &stack{name: name, root: b.root, manager: b.manager, args: b.operatorArgs}
	var err error
	if s.cluster, err = harness.StartControlPlane(harness.ControlPlaneOptions{
		Assets: b.assets, Kubeconfig: filepath.Join(b.root, "bin", name+".kubeconfig")}); err != nil {
		return nil, err
	}
	own := *s.cluster.Config
	own.QPS, own.Burst = -1, 0
	if s.client, err = client.NewWithWatch(&own, client.Options{Scheme: s.cluster.Client.Scheme()}); err != nil {
		s.stop()
		return nil, err
	}
	// The operator and the baselines act as the operator's ServiceAccount, as in a cluster:
	// Priority and Fairness exempts the admin, and would measure a server no Pod meets.
	identity, err := s.cluster.OperatorServiceAccount(context.Background(), b.root, "figma-token-operator-system", "figma-token-operator")
	if err != nil {
		s.stop()
		return nil, err
	}
	proxied := filepath.Join(b.root, "bin", name+"-proxied.kubeconfig")
	if s.proxy, err = harness.StartAPIProxy(identity, proxied, classify); err != nil {
		s.stop()
		return nil, err
	}
	if s.fake, err = harness.StartEndpoint(fakeamplify.Options{Lifetime: time.Hour}); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// startOperator starts the manager binary as users run it, with the default settings.
func (s *stack) startOperator(profile bool) error {
	s.operator = &harness.Manager{Binary: s.manager, Kubeconfig: s.proxy.Kubeconfig, Endpoint: s.fake.URL,
		LogPath: filepath.Join(s.root, "bin", s.name+"-manager.log"), Args: append([]string(nil), s.args...)}
	if profile {
		addr, err := freeAddress()
		if err != nil {
			return err
		}
		s.pprof = addr
		s.operator.Args = append(s.operator.Args, "--pprof-bind-address", addr)
	}
	return s.operator.Start()
}

func (s *stack) stopOperator() {
	if s.operator != nil {
		s.operator.Stop()
		s.operator = nil
	}
}

func (s *stack) stop() {
	s.stopOperator()
	if s.fake != nil {
		s.fake.Down()
	}
	if s.proxy != nil {
		s.proxy.Close()
	}
	if s.cluster != nil {
		s.cluster.Stop()
	}
}

// create makes n Secrets, each with a refresh token, and a FigmaToken naming each, in
// namespace ns. It returns them in order.
func (s *stack) create(ctx context.Context, ns string, n int) ([]*corev1.Secret, []*figmav1alpha1.FigmaToken, error) {
	return s.createLabeled(ctx, ns, n, func(int) map[string]string { return nil })
}

// createLabeled is create with the labels labels(i) on the i-th FigmaToken.
func (s *stack) createLabeled(ctx context.Context, ns string, n int, labels func(int) map[string]string) ([]*corev1.Secret, []*figmav1alpha1.FigmaToken, error) {
	return s.createEach(ctx, ns, n, func(i int, ft *figmav1alpha1.FigmaToken) { ft.Labels = labels(i) })
}

// createEach creates n Secrets and FigmaTokens in ns, each FigmaToken changed by mutate.
func (s *stack) createEach(ctx context.Context, ns string, n int, mutate func(int, *figmav1alpha1.FigmaToken)) ([]*corev1.Secret, []*figmav1alpha1.FigmaToken, error) {
	if err := s.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); client.IgnoreAlreadyExists(err) != nil {
		return nil, nil, err
	}
	secrets := make([]*corev1.Secret, n)
	tokens := make([]*figmav1alpha1.FigmaToken, n)
	done := progress(fmt.Sprintf("creating %d Secrets and FigmaTokens in %s", n, ns), n)
	defer done.stop()
	err := parallel(ctx, n, createWorkers, func(i int) error {
		name := tokenName(i)
		secrets[i] = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Data: map[string][]byte{"refreshToken": []byte(refreshToken(name))}}
		tokens[i] = &figmav1alpha1.FigmaToken{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: figmav1alpha1.FigmaTokenSpec{SecretRef: figmav1alpha1.SecretRef{Name: figmav1alpha1.DNSSubdomain(name)}}}
		mutate(i, tokens[i])
		if err := s.client.Create(ctx, secrets[i]); err != nil {
			return err
		}
		err := s.client.Create(ctx, tokens[i])
		done.add(1)
		return err
	})
	return secrets, tokens, err
}

func tokenName(i int) string          { return fmt.Sprintf("token-%05d", i) }
func refreshToken(name string) string { return "refresh-" + name }

// quiesce waits until the operator has sent no request for two seconds (at most a minute),
// so that a phase's trailing status writes and Events are counted in that phase.
func (s *stack) quiesce() {
	last, since := s.proxy.Counts(), time.Now()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
		now := s.proxy.Counts()
		if total(now) != total(last) {
			last, since = now, time.Now()
		} else if time.Since(since) >= 2*time.Second {
			return
		}
	}
}

// rssMiB is the operator's peak resident memory so far (VmHWM).
func (s *stack) rssMiB() (float64, error) { return peakRSSMiB(s.operator.Pid()) }

// peakRSSMiB is a process's peak resident memory so far (VmHWM).
func peakRSSMiB(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if fields := strings.Fields(line); len(fields) >= 2 && fields[0] == "VmHWM:" {
			kib, err := strconv.ParseFloat(fields[1], 64)
			return kib / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM for pid %d", pid)
}

// saveProfile writes one of the operator's pprof profiles (go tool pprof reads it).
func (s *stack) saveProfile(ctx context.Context, profile, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.pprof+"/debug/pprof/"+profile, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: HTTP %d", profile, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// freeAddress is a loopback address nothing listens on right now.
func freeAddress() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
