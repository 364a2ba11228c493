package main

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// run executes the plugin's root command with args, as main does, without a cluster.
func run(t *testing.T, args ...string) (*bytes.Buffer, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
	root.SetArgs(args)
	return &out, root.Execute()
}

func TestVIsKubectlsVerbosityNotVersion(t *testing.T) {
	tests := []struct {
		args        []string
		wantVersion bool
		wantV       string
	}{
		{[]string{"--version"}, true, "0"},
		{[]string{"version"}, true, "0"},
		{[]string{"-v", "6", "version"}, true, "6"},
		{[]string{"-v=4", "version"}, true, "4"},
		{[]string{"--v=7", "version"}, true, "7"},
		// From 8 on client-go logs bodies, Secret values included: lowered to 7.
		{[]string{"-v=9", "version"}, true, "7"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			root := newRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
			root.SetArgs(tt.args)
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if got := strings.HasPrefix(out.String(), "kubectl-figmatoken "); got != tt.wantVersion {
				t.Errorf("printed %q", out.String())
			}
			if got := root.PersistentFlags().Lookup("v").Value.String(); got != tt.wantV {
				t.Errorf("-v = %s, want %s", got, tt.wantV)
			}
		})
	}
	// --vmodule takes the same ceiling per file: client-go's request.go logs bodies at 8.
	root := newRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	root.SetArgs([]string{"--vmodule=request=9,round_trippers=6", "version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if got := root.PersistentFlags().Lookup("vmodule").Value.String(); got != "request=7,round_trippers=6" {
		t.Errorf("--vmodule = %s, want request=7,round_trippers=6", got)
	}
	// -v alone is not --version: it wants a level.
	if out, err := run(t, "-v"); err == nil {
		t.Errorf("-v alone succeeded: %q", out)
	}
	t.Cleanup(func() { _, _ = run(t, "-v=0", "--vmodule=", "version") })
}
