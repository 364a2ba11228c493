package controllers_test

import (
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// upstreamFault is one way the Amplify endpoint can misbehave.
type upstreamFault struct {
	name   string
	inject func(refreshToken string)
	heal   func(refreshToken string)
	// detail is what the Reconciling message says about it.
	detail string
}

func program(b fakeamplify.Behavior) func(string) {
	return func(rt string) { fake.SetBehavior(rt, b) }
}

func body(json string) func(string) { return program(fakeamplify.Behavior{Body: json}) }

func expiresIn(v int64) func(string) { return program(fakeamplify.Behavior{ExpiresIn: &v}) }

func TestUpstreamFaultsKeepTheTokenAndBackOff(t *testing.T) {
	t.Parallel()
	faults := []upstreamFault{
		{name: "burst of 5xx", inject: func(rt string) { fake.FailNext(rt, 1000, 503, "ServiceUnavailableException") }, detail: "ServiceUnavailableException, HTTP 503"},
		{name: "429 ThrottlingException", inject: func(rt string) { fake.FailNext(rt, 1000, 429, "ThrottlingException") }, detail: "ThrottlingException, HTTP 429"},
		{name: "throttling on HTTP 400", inject: func(rt string) { fake.FailNext(rt, 1000, 400, "ThrottlingException") }, detail: "ThrottlingException, HTTP 400"},
		{name: "hung endpoint cut by the deadline", inject: program(fakeamplify.Behavior{Delay: time.Hour}), detail: "timeout"},
		{name: "malformed JSON", inject: body(`{"accessToken": "figat-trunc`), detail: "unreadable answer"},
		{name: "missing accessToken", inject: body(`{"expiresIn": 3600}`), detail: "no accessToken"},
		{name: "missing expiresIn", inject: body(`{"accessToken": "figat-no-expiry"}`), detail: "no expiresIn"},
		{name: "expiresIn 0", inject: expiresIn(0), detail: "unusable expiresIn"},
		{name: "expiresIn negative", inject: expiresIn(-60), detail: "unusable expiresIn"},
		// The SDK reads expiresIn as an int32, so this wraps to an epoch time in 2008.
		{name: "expiresIn beyond any integer the API defines", inject: body(`{"accessToken": "figat-huge", "expiresIn": 99999999999}`), detail: "expiresIn"},
		{name: "epoch expiresIn in the past", inject: expiresIn(time.Now().Add(-time.Hour).Unix()), detail: "unusable expiresIn"},
	}
	for _, fault := range faults {
		t.Run(fault.name, func(t *testing.T) {
			t.Parallel()
			checkFault(t, fault)
		})
	}
}

func TestUnreachableEndpointIsRetriedUntilItIsBack(t *testing.T) {
	checkFault(t, upstreamFault{
		name:   "connection refused",
		inject: func(string) { endpoint.Down() },
		heal: func(string) {
			if err := endpoint.Up(); err != nil {
				t.Fatal(err)
			}
		},
		detail: "network error",
	})
}

// checkFault refreshes a healthy FigmaToken while the fault lasts and checks the reason, that
// the token in the Secret is untouched, that retries back off, and that it recovers.
func checkFault(t *testing.T, fault upstreamFault) {
	f := newFixture(t)
	ft, rt := f.readyFigmaToken("faulty")
	before := f.secret("creds")

	fault.inject(rt)
	heal := sync.OnceFunc(func() {
		if fault.heal != nil {
			fault.heal(rt)
		} else {
			fake.Heal(rt)
		}
	})
	defer heal()
	callsBefore := fake.Calls(rt)
	f.update(ft, func() { ft.Annotations = map[string]string{figmav1alpha1.AnnotationRefreshRequestedAt: "during-fault"} })

	f.g.Eventually(f.condition("faulty", figmav1alpha1.ConditionReconciling)).Should(Equal("True/RefreshFailed"))
	status := f.figmaToken("faulty").Status
	reconciling := meta.FindStatusCondition(status.Conditions, figmav1alpha1.ConditionReconciling)
	f.g.Expect(reconciling.Message).To(ContainSubstring(fault.detail))
	f.g.Expect(f.condition("faulty", figmav1alpha1.ConditionReady)()).To(Equal("True/Refreshed"), "the token in the Secret is still valid")
	f.g.Expect(f.condition("faulty", figmav1alpha1.ConditionStalled)()).To(BeEmpty())
	firstFailure := status.LastFailureTime.Time

	// The second attempt waits for the first backoff step (5 s less at most 10% jitter).
	f.g.Eventually(func() int32 { return f.figmaToken("faulty").Status.FailedAttempts }).Should(BeNumerically(">=", 2))
	status = f.figmaToken("faulty").Status
	f.g.Expect(status.LastFailureTime.Sub(firstFailure)).To(BeNumerically(">=", 4*time.Second), "retried before the backoff")
	f.g.Expect(fake.Calls(rt)-callsBefore).To(BeNumerically("<=", 3*int(status.FailedAttempts)), "at most 3 SDK attempts per refresh")

	after := f.secret("creds")
	f.g.Expect(after.Data["accessToken"]).To(Equal(before.Data["accessToken"]), "a failed refresh never changes the token")
	f.g.Expect(after.ResourceVersion).To(Equal(before.ResourceVersion), "a failed refresh never writes the Secret")

	heal()
	f.g.Eventually(func() string {
		return string(f.secret("creds").Data["accessToken"])
	}).ShouldNot(Equal(string(before.Data["accessToken"])))
	f.waitReady("faulty")
	f.g.Eventually(f.condition("faulty", figmav1alpha1.ConditionReconciling)).Should(BeEmpty())
	f.g.Expect(f.figmaToken("faulty").Status.FailedAttempts).To(BeZero())
}

func TestUnusualButValidExpiresIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		expiresIn func() int64
		want      func(sent time.Time) time.Time
	}{
		{"epoch form is an absolute expiry", func() int64 { return time.Now().Add(2 * time.Hour).Unix() },
			func(time.Time) time.Time { return time.Now().Add(2 * time.Hour) }},
		{"the largest relative value is honored", func() int64 { return 1_000_000_000 },
			func(sent time.Time) time.Time { return sent.Add(1_000_000_000 * time.Second) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			rt := uniqueToken("expiry")
			v := tt.expiresIn()
			fake.SetBehavior(rt, fakeamplify.Behavior{ExpiresIn: &v})
			sent := time.Now()
			f.createSecret("creds", map[string]string{"refreshToken": rt})
			f.createFigmaToken("unusual", "creds")
			ft := f.waitReady("unusual")
			f.g.Expect(ft.Status.ExpiresAt.Time).To(BeTemporally("~", tt.want(sent), time.Minute))
			f.g.Expect(f.secret("creds").Annotations[figmav1alpha1.AnnotationExpiresAt]).To(Equal(ft.Status.ExpiresAt.UTC().Format(time.RFC3339)))
		})
	}
}
