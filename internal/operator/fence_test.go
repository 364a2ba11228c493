package operator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
)

// The fence lets writes through only while this replica's last renewal of its Lease is
// within the renew deadline: a leader that wakes from a pause longer than that writes
// nothing, reads go on, and a failed renewal counts for nothing.
func TestTheLeaseFenceRefusesWritesOfAStaleLeader(t *testing.T) {
	var leaseStatus atomic.Int32
	leaseStatus.Store(http.StatusOK)
	var reached []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = append(reached, r.Method+" "+r.URL.Path)
		if strings.Contains(r.URL.Path, "/leases") {
			w.WriteHeader(int(leaseStatus.Load()))
		}
	}))
	t.Cleanup(srv.Close)
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC))
	fence := &leaseFence{clock: clk, lease: "figma-token-operator.figma.tokenops.dev", deadline: 10 * time.Second}
	config := fence.wrap(&rest.Config{Host: srv.URL})
	transport, err := rest.TransportFor(config)
	if err != nil {
		t.Fatal(err)
	}
	send := func(method, path string) error {
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := transport.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	const (
		lease  = "/apis/coordination.k8s.io/v1/namespaces/system/leases/figma-token-operator.figma.tokenops.dev"
		secret = "/api/v1/namespaces/web/secrets/creds"
		review = "/apis/authentication.k8s.io/v1/tokenreviews"
	)
	mustPass := func(method, path string) {
		t.Helper()
		if err := send(method, path); err != nil {
			t.Fatalf("%s %s refused: %v", method, path, err)
		}
	}
	mustBeRefused := func(method, path, why string) {
		t.Helper()
		before := len(reached)
		err := send(method, path)
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Fatalf("%s %s: %v, want refused saying %q", method, path, err, why)
		}
		if len(reached) != before {
			t.Fatalf("%s %s reached the API server", method, path)
		}
	}

	mustBeRefused(http.MethodPut, secret, "has not renewed")
	mustPass(http.MethodGet, secret)
	mustPass(http.MethodPost, review)

	mustPass(http.MethodPut, lease) // renewed
	mustPass(http.MethodPut, secret)
	clk.Step(9 * time.Second)
	mustPass(http.MethodPatch, secret)

	clk.Step(2 * time.Second) // paused past the renew deadline: another replica may lead
	mustBeRefused(http.MethodPut, secret, "more than the renew deadline (10s)")
	mustBeRefused(http.MethodDelete, secret, "another replica may lead")
	mustPass(http.MethodGet, secret)
	mustPass(http.MethodGet, lease) // reading the Lease is no renewal
	mustBeRefused(http.MethodPatch, secret, "renew deadline")

	leaseStatus.Store(http.StatusConflict) // the renewal fails: another replica holds it
	mustPass(http.MethodPut, lease)
	mustBeRefused(http.MethodPatch, secret, "renew deadline")

	leaseStatus.Store(http.StatusOK) // renewed again
	mustPass(http.MethodPut, lease)
	mustPass(http.MethodPatch, secret)
}
