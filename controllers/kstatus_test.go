package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// Flux, Argo CD and kpt judge health with kstatus; it must read each state as meant.
func TestKstatusReadsTheConditions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	f.readyFigmaToken("ready")
	f.g.Eventually(f.kstatus("ready")).Should(Equal(status.CurrentStatus))

	rejected := uniqueToken("kstatus-rejected")
	fake.SetBehavior(rejected, fakeamplify.Behavior{Reject: true})
	f.createSecret("rejected-creds", map[string]string{"refreshToken": rejected})
	f.createFigmaToken("rejected", "rejected-creds")
	f.g.Eventually(f.kstatus("rejected")).Should(Equal(status.FailedStatus))

	flaky := uniqueToken("kstatus-flaky")
	fake.FailNext(flaky, 1000, 503, "ServiceUnavailableException")
	f.createSecret("flaky-creds", map[string]string{"refreshToken": flaky})
	f.createFigmaToken("flaky", "flaky-creds")
	f.g.Eventually(f.kstatus("flaky")).Should(Equal(status.InProgressStatus))
	fake.Heal(flaky)
}

func (f *fixture) kstatus(name string) func() status.Status {
	return func() status.Status {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(figmav1alpha1.GroupVersion.WithKind("FigmaToken"))
		if err := k8s.Get(context.Background(), objectKey(f.ns, name), u); err != nil {
			return status.UnknownStatus
		}
		result, err := status.Compute(u)
		if err != nil {
			return status.UnknownStatus
		}
		return result.Status
	}
}
