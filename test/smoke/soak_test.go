package smoke

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

// A short make soak keeps the soak working; it fails when an invariant breaks. The seed is
// fixed so that the outage and kill plan is the same each time (the per-call upstream
// faults still follow the order of calls).
func TestSoakShort(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	out := filepath.Join(t.TempDir(), "soak")
	runCommand(t, "soak", "-duration", "90s", "-n", "100", "-seed", "20261126", "-out", out)

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
}
