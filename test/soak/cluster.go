package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tokenops/figma-token-operator/internal/harness"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

const (
	namespace = "soak"
	// tokenLifetime is what the fake issues: the operator refreshes about 40 s before expiry.
	tokenLifetime = 120 * time.Second
)

// soak is one run: the cluster, the two replicas, the faults and what users did.
type soak struct {
	cfg   config
	bins  harness.Binaries
	begin time.Time

	rngMu sync.Mutex
	rng   *rand.Rand

	cluster *harness.ControlPlane
	client  client.Client // users' and the checker's: straight to the API server
	fake    *harness.Endpoint

	replicas []*replica

	mu      sync.Mutex
	faults  map[string]int
	windows []window // when faults kept the operator from working
	kills   int
	outages int
	pauses  int
	// restarts of the API server process
	restarts int
	upgrades int
	// previousManager is the previous version's manager binary, for the upgrade fault.
	previousManager string

	users   users
	checker checker
}

// window is a time a fault stood in the operator's way, for recovery and excuses.
type window struct {
	kind       string
	start, end time.Time
	// secret is the Secret whose refresh token a hanging call sent; "" for faults that hit
	// every FigmaToken. A hang holds the FigmaToken's reconcile, whichever token it sent:
	// a rotation waits for it too.
	secret string
}

func (s *soak) chance(p float64) bool {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64() < p
}

func (s *soak) intn(n int) int {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.IntN(n)
}

// between is a random duration in [lo, hi).
func (s *soak) between(lo, hi time.Duration) time.Duration {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return lo + time.Duration(s.rng.Int64N(int64(hi-lo)))
}

func (s *soak) start(bins harness.Binaries) error {
	s.bins = bins
	s.checker.s, s.users.s = s, s
	var err error
	if s.cluster, err = harness.StartControlPlane(harness.ControlPlaneOptions{
		Assets: bins.Assets, Kubeconfig: filepath.Join(bins.Root, "bin", "soak.kubeconfig")}); err != nil {
		return err
	}
	own := *s.cluster.Config
	own.QPS, own.Burst = -1, 0
	if s.client, err = client.New(&own, client.Options{Scheme: s.cluster.Client.Scheme()}); err != nil {
		return err
	}
	if s.fake, err = harness.StartEndpoint(fakeamplify.Options{Lifetime: tokenLifetime,
		Inject: s.upstreamFault}); err != nil {
		return err
	}
	if slices.Contains(s.cfg.faults, "upgrade") {
		if s.previousManager, err = buildPrevious(context.Background(), bins.Root); err != nil {
			return err
		}
	}
	for _, name := range []string{"a", "b"} {
		r := &replica{s: s, name: name, binary: bins.Manager}
		// A proxy per replica, as each Pod has its own connection: every write is
		// attributed to the replica that sent it.
		if r.proxy, err = harness.StartAPIProxy(s.cluster.Config, filepath.Join(bins.Root, "bin", "soak-proxied-"+name+".kubeconfig"), nil); err != nil {
			return err
		}
		r.proxy.ObserveResponses(r.observe)
		s.replicas = append(s.replicas, r)
		if err := r.start(); err != nil {
			return err
		}
	}
	return nil
}

func (s *soak) stop() {
	for _, r := range s.replicas {
		r.stop()
	}
	if s.fake != nil {
		s.fake.Down()
	}
	for _, r := range s.replicas {
		r.proxy.Close()
	}
	if s.cluster != nil {
		s.cluster.Stop()
	}
}

func (s *soak) addWindow(w window) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.windows = append(s.windows, w)
}

// openWindow adds a window that a fault opens now and closes later: until then it reaches
// to the present, so that what the checker judges meanwhile is seen against it.
func (s *soak) openWindow(kind string) (close func(end time.Time)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := len(s.windows)
	s.windows = append(s.windows, window{kind: kind, start: time.Now()})
	return func(end time.Time) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.windows[i].end = end
	}
}

// failedOverSince reports whether a fault that can change the leader (and with it what the
// operator keeps in memory) reached past since.
func (s *soak) failedOverSince(since time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.windows {
		if w.secret == "" && (w.end.IsZero() || w.end.After(since)) {
			return true
		}
	}
	return false
}

func (s *soak) countFault(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[kind]++
}

// replica is one manager Deployment replica: a process, restarted when it exits, as the
// kubelet restarts a container (a replica that loses its lease exits by design).
type replica struct {
	s     *soak
	name  string
	proxy *harness.APIProxy
	// binary is the manager it runs: this version's, or the previous one's during an upgrade.
	binary string
	// deposed: the running process was paused past its lease and another replica took it;
	// until the process exits, any write it sends (its Lease aside) is a split-brain write.
	deposed  atomic.Bool
	mu       sync.Mutex
	process  *harness.Manager
	runs     int
	metrics  string
	stopping bool
	logs     []string
	// led: the running process has acquired the lease. A process that loses it exits, so
	// this holds until the next start, and its log need not be read again.
	led bool
}

func (r *replica) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs++
	r.led = false
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	r.metrics = l.Addr().String()
	_ = l.Close()
	logPath := filepath.Join(r.s.bins.Root, "bin", fmt.Sprintf("soak-manager-%s-%d.log", r.name, r.runs))
	_ = os.Remove(logPath)
	r.logs = append(r.logs, logPath)
	args := []string{"--leader-elect", "--leader-election-namespace", "default", "--metrics-bind-address", r.metrics, "--zap-log-level", r.s.cfg.logLevel}
	if r.binary != r.s.previousManager {
		// Plain HTTP metrics: the checker scrapes them on loopback, as no Prometheus would.
		// (The previous version serves nothing else and has no such flag.)
		args = append(args, "--metrics-secure=false")
	}
	r.process = &harness.Manager{Binary: r.binary, Kubeconfig: r.proxy.Kubeconfig, Endpoint: r.s.fake.URL, LogPath: logPath, Args: args}
	if err := r.process.Start(); err != nil {
		return err
	}
	go r.supervise(r.process)
	return nil
}

// supervise restarts the process a second after it exits, unless the run is stopping.
func (r *replica) supervise(p *harness.Manager) {
	<-p.Exited()
	r.deposed.Store(false)
	r.mu.Lock()
	stopping := r.stopping || r.process != p
	r.mu.Unlock()
	if stopping {
		return
	}
	logf("replica %s exited (run %d); restarting it", r.name, r.runs)
	time.Sleep(time.Second)
	if err := r.start(); err != nil {
		logf("replica %s: %v", r.name, err)
	}
}

// leads reports whether the running process holds the lease: it says so in its log.
func (r *replica) leads() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.process.Exited():
		return false
	default:
	}
	if !r.led {
		r.led = strings.Contains(strings.ToLower(r.process.Log()), "successfully acquired lease")
	}
	return r.led
}

// observe sees each answer the replica's proxy passes on, and counts a deposed process's
// writes.
func (r *replica) observe(resp *http.Response) {
	req := resp.Request
	if !r.deposed.Load() || req.Method == http.MethodGet || strings.Contains(req.URL.Path, "/leases") {
		return
	}
	r.s.checker.violate("deposed_leader_write", fmt.Sprintf("replica %s, paused past its lease, sent %s %s (HTTP %d)",
		r.name, req.Method, req.URL.Path, resp.StatusCode))
}

// kill ends the process at once, as a node failure would; supervise starts a new one.
func (r *replica) kill() {
	r.mu.Lock()
	p := r.process
	r.mu.Unlock()
	p.Kill()
}

func (r *replica) stop() {
	r.mu.Lock()
	r.stopping = true
	p := r.process
	r.mu.Unlock()
	if p != nil {
		p.Stop()
	}
}

// allLogs is everything every process of the replica wrote.
func (r *replica) allLogs() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, path := range r.logs {
		data, _ := os.ReadFile(path)
		b.Write(data)
	}
	return b.String()
}

func (r *replica) metricsURL() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return "http://" + r.metrics + "/metrics"
}

// leader is the replica holding the lease, nil when none does.
func (s *soak) leader() *replica {
	for _, r := range s.replicas {
		if r.leads() {
			return r
		}
	}
	return nil
}

// waitForLeader waits until a replica leads.
func (s *soak) waitForLeader(ctx context.Context) *replica {
	for ctx.Err() == nil {
		if l := s.leader(); l != nil {
			return l
		}
		sleep(ctx, 500*time.Millisecond)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
