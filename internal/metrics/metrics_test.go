package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSeriesFollowTheFigmaTokensState(t *testing.T) {
	expires := time.Unix(1_900_000_000, 0)
	ObserveRefresh("ns", "a", "success", time.Millisecond)
	ObserveRefresh("ns", "a", "success", time.Millisecond)
	ObserveRefresh("ns", "a", "error", time.Millisecond)
	SetState("ns", "a", true, expires)
	SetConditions("ns", "a", []ConditionSeries{{"Ready", "True", "Refreshed"}, {"Reconciling", "True", "RefreshFailed"}})
	SetConditions("ns", "a", []ConditionSeries{{"Ready", "True", "Refreshed"}}) // Reconciling no longer holds
	SetState("ns", "b", false, time.Time{})
	ObserveRefresh("ns", "gone", "rejected", time.Millisecond)
	Forget("ns", "gone")

	want := `
# HELP figmatoken_condition 1 for each condition a FigmaToken has (Ready always; Stalled and Reconciling while they hold), with its status and reason.
# TYPE figmatoken_condition gauge
figmatoken_condition{name="a",namespace="ns",reason="Refreshed",status="True",type="Ready"} 1
# HELP figmatoken_expiration_timestamp_seconds Unix time at which the current access token expires.
# TYPE figmatoken_expiration_timestamp_seconds gauge
figmatoken_expiration_timestamp_seconds{name="a",namespace="ns"} 1.9e+09
# HELP figmatoken_ready 1 when the FigmaToken's Secret holds a valid access token, else 0.
# TYPE figmatoken_ready gauge
figmatoken_ready{name="a",namespace="ns"} 1
figmatoken_ready{name="b",namespace="ns"} 0
# HELP figmatoken_refresh_total Refresh attempts by FigmaToken and result (success, error, rejected).
# TYPE figmatoken_refresh_total counter
figmatoken_refresh_total{name="a",namespace="ns",result="error"} 1
figmatoken_refresh_total{name="a",namespace="ns",result="success"} 2
`
	if err := testutil.CollectAndCompare(collector{}, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}
