package main

import (
	"flag"
	"os"
	"strings"
	"testing"
)

// Every flag of the manager is in the README's configuration table.
func TestREADMEDocumentsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	bindFlags(fs)
	fs.VisitAll(func(f *flag.Flag) {
		documented := strings.Contains(string(readme), "`--"+f.Name+"`") ||
			// The leader election timing flags share a row.
			strings.Contains(string(readme), "`-"+strings.TrimPrefix(f.Name, "leader-elect-")+"`") ||
			// The zap flags are listed as a family.
			strings.HasPrefix(f.Name, "zap-") && strings.Contains(string(readme), "`--zap-log-level`")
		if !documented {
			t.Errorf("flag --%s is not in the README", f.Name)
		}
	})
}
