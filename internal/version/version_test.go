package version

import (
	"strings"
	"testing"
)

func TestStringLeadsWithTheVersion(t *testing.T) {
	old := Version
	t.Cleanup(func() { Version = old })
	Version = "v0.2.0"
	if got := String(); !strings.HasPrefix(got, "figma-token-operator v0.2.0 (") {
		t.Fatalf("String() = %q", got)
	}
}
