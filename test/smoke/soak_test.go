package smoke

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

// A short make soak keeps the soak working. It fails when a refresh token is lost, something
// foreign is changed or a token value leaks; the timing goals, which depend on how the faults
// fall against each other, are logged here and judged on the full 10-minute run
// (docs/reliability.md). The seed is fixed so that the kill plan is the same each time (the
// per-call upstream faults still follow the order of calls).
func TestSoakShort(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	out := filepath.Join(t.TempDir(), "soak")
	runCommand(t, "soak", "-duration", "90s", "-n", "100", "-seed", "20261126", "-safety-only", "-out", out)

	data, err := os.ReadFile(out + ".json")
	g.Expect(err).NotTo(HaveOccurred())
	var r map[string]any
	g.Expect(json.Unmarshal(data, &r)).To(Succeed())
	for _, field := range []string{"duration_seconds", "n", "seed", "refreshes", "expired_tokens", "lost_refresh_tokens",
		"foreign_changes", "leaks", "upstream_calls_per_refresh", "rotation_to_use_p99_seconds", "max_recovery_seconds",
		"duplicate_forced_calls", "leader_kills", "api_outages", "faults"} {
		g.Expect(r).To(HaveKey(field))
	}
	g.Expect(r["leader_kills"]).To(BeNumerically(">=", 1), "the short run's plan has a leader kill")
	g.Expect(r["refreshes"]).To(BeNumerically(">=", 100))
	g.Expect(r["lost_refresh_tokens"]).To(BeZero())
	g.Expect(r["foreign_changes"]).To(BeZero())
	g.Expect(r["leaks"]).To(BeZero())
	summary, err := os.ReadFile(out + ".md")
	g.Expect(err).NotTo(HaveOccurred())
	t.Logf("the short soak's figures:\n%s", summary)
}
