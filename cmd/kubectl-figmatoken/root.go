package main

import (
	"flag"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"

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
		Short:       "Connect, inspect and renew FigmaTokens (figma-token-operator)",
		Long: `kubectl figmatoken gets a FigmaToken its first refresh token through Figma's consent
(connect), shows why a FigmaToken is or is not Ready, forces a refresh, lists FigmaTokens by
urgency, and finds the pods that hold an old or expiring token (consumers). It connects like kubectl (--kubeconfig, --context, -n; -v for
verbosity, e.g. -v=6 logs each API request) and never prints a token: of a Secret it shows
key names and value lengths only.

Times are relative to now: "in 59d" is in the future, "3m ago" in the past
(s, m, h, d, y as kubectl prints ages).

Exit status: 0 on success; 1 on an error (not found, forbidden, no connection); for
renew --wait, when a refresh failed or was not handled within --timeout; for connect, when
the redirect was refused or the exchange failed or timed out; for consumers, when a
consumer is stale.`,
		Example: `  kubectl figmatoken connect design-system -n web --client design-app
  kubectl figmatoken get -A
  kubectl figmatoken status design-system -n web
  kubectl figmatoken renew design-system -n web --wait
  kubectl figmatoken consumers design-system -n web`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return capVerbosity(cmd.Flags())
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	o.flags.AddFlags(root.PersistentFlags())
	addVerbosityFlags(root.PersistentFlags())
	root.AddCommand(newStatusCommand(o), newRenewCommand(o), newGetCommand(o), newConnectCommand(o), newConsumersCommand(o), newVersionCommand(o))
	return root
}

// maxVerbosity is the highest -v allowed: from 8 on, client-go logs request and response
// bodies, which would print the Secrets' values (codes, tokens).
const maxVerbosity = 7

// addVerbosityFlags gives -v its kubectl meaning: klog's verbosity, which client-go logs
// at (-v=6 shows each request with its status, -v=7 its headers, credentials masked), and
// --vmodule. Taking the shorthand first keeps cobra from binding -v to --version.
func addVerbosityFlags(flags *pflag.FlagSet) {
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	for _, name := range []string{"v", "vmodule"} {
		flags.AddGoFlag(klogFlags.Lookup(name))
	}
	flags.Lookup("v").Usage = fmt.Sprintf("log verbosity, as kubectl's: 6 logs each API request, %d its headers (credentials masked); higher values are lowered to %d, which keeps Secret values out of the log", maxVerbosity, maxVerbosity)
	flags.Lookup("vmodule").Usage = fmt.Sprintf("log verbosity per Go file, pattern=N,... (as kubectl's); levels above %d are lowered to %d, as for -v", maxVerbosity, maxVerbosity)
}

// capVerbosity lowers -v, and each level of --vmodule, to maxVerbosity: --vmodule=request=8
// would otherwise log the bodies that -v=8 does.
func capVerbosity(flags *pflag.FlagSet) error {
	v := flags.Lookup("v")
	level, err := strconv.Atoi(v.Value.String())
	if err != nil {
		return err
	}
	if level > maxVerbosity {
		if err := v.Value.Set(strconv.Itoa(maxVerbosity)); err != nil {
			return err
		}
	}
	m := flags.Lookup("vmodule")
	if capped := capModules(m.Value.String()); capped != m.Value.String() {
		return m.Value.Set(capped)
	}
	return nil
}

// capModules lowers each pattern=N of a --vmodule value above maxVerbosity to it.
func capModules(spec string) string {
	if spec == "" {
		return spec
	}
	parts := strings.Split(spec, ",")
	for i, part := range parts {
		pattern, level, ok := strings.Cut(part, "=")
		if n, err := strconv.Atoi(level); ok && err == nil && n > maxVerbosity {
			parts[i] = pattern + "=" + strconv.Itoa(maxVerbosity)
		}
	}
	return strings.Join(parts, ",")
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
