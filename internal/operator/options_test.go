package operator

import (
	"testing"

	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

func TestEachShardHasItsOwnLeaseAndCache(t *testing.T) {
	b, err := labels.Parse("figma.tokenops.dev/shard=b")
	if err != nil {
		t.Fatal(err)
	}
	rest, err := labels.Parse("figma.tokenops.dev/shard notin (b)")
	if err != nil {
		t.Fatal(err)
	}
	if leaderElectionID(nil) != LeaderElectionID || leaderElectionID(labels.Everything()) != LeaderElectionID {
		t.Fatal("an instance without a selector changed its Lease: an upgrade would run two leaders")
	}
	if leaderElectionID(b) == leaderElectionID(rest) || leaderElectionID(b) == LeaderElectionID {
		t.Fatalf("shards share a Lease: %s, %s", leaderElectionID(b), leaderElectionID(rest))
	}
	opts := ManagerOptions(ctrl.Options{}, nil, b, nil)
	var byObject labels.Selector
	for obj, o := range opts.Cache.ByObject {
		if _, ok := obj.(*figmav1alpha1.FigmaToken); ok {
			byObject = o.Label
		}
	}
	if byObject == nil || byObject.String() != b.String() {
		t.Fatalf("the FigmaToken cache selects %v, want %v", byObject, b)
	}
	if opts := ManagerOptions(ctrl.Options{}, nil, nil, nil); len(opts.Cache.ByObject) != 0 {
		t.Fatal("a cache narrowed without a selector")
	}
}

func TestMetricsAreServedSecurelyUnlessAskedNotTo(t *testing.T) {
	secure := metricsOptions(Options{MetricsAddr: ":8443", MetricsSecure: true})
	if !secure.SecureServing || secure.FilterProvider == nil {
		t.Fatal("--metrics-secure serves without TLS or without authentication and authorization")
	}
	plain := metricsOptions(Options{MetricsAddr: ":8080"})
	if plain.SecureServing || plain.FilterProvider != nil {
		t.Fatal("--metrics-secure=false still serves TLS or filters")
	}
}
