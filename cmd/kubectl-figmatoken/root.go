package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/tokenops/figma-token-operator/internal/version"
)

// options are what every subcommand shares: kubectl's connection flags and the streams.
type options struct {
	flags   *genericclioptions.ConfigFlags
	streams genericiooptions.IOStreams
}

func newRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &options{flags: genericclioptions.NewConfigFlags(true), streams: streams}
	root := &cobra.Command{
		Use: "kubectl-figmatoken",
		// kubectl runs the binary kubectl-figmatoken as "kubectl figmatoken"; help says so.
		Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl figmatoken"},
		Short:       "Inspect and renew FigmaTokens (figma-token-operator)",
		Long: `kubectl figmatoken shows why a FigmaToken is or is not Ready, forces a refresh and lists
FigmaTokens by urgency. It connects like kubectl (--kubeconfig, --context, -n) and never
prints a token: of a Secret it shows key names and value lengths only.

Times are relative to now: "in 59d" is in the future, "3m ago" in the past
(s, m, h, d, y as kubectl prints ages).

Exit status: 0 on success; 1 on an error (not found, forbidden, no connection) and, for
renew --wait, when a refresh failed or was not handled within --timeout.`,
		Example: `  kubectl figmatoken get -A
  kubectl figmatoken status design-system -n web
  kubectl figmatoken renew design-system -n web --wait`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	o.flags.AddFlags(root.PersistentFlags())
	root.AddCommand(newStatusCommand(o), newRenewCommand(o), newGetCommand(o), newVersionCommand(o))
	return root
}

func newVersionCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version, source revision and Go version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(o.streams.Out, versionString())
			return err
		},
	}
}

// versionString leads with the version, as the manager's --version does.
func versionString() string {
	return fmt.Sprintf("kubectl-figmatoken %s (revision %s, %s)", version.Version, version.Revision(), runtime.Version())
}
