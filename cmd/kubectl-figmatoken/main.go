// Command kubectl-figmatoken is the kubectl plugin of figma-token-operator:
// kubectl figmatoken status NAME, renew NAME [--wait], get [-A], connect NAME --client
// CLIENT and consumers NAME. It reads FigmaTokens, their Secrets' metadata and key names,
// their Events and the pods that use the token; connect writes an authorization code into
// a Secret. It never prints a token or a code.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

func main() {
	// controller-runtime's client logs through its global logger, which a command has none
	// of; without one it complains on stderr after a while.
	ctrllog.SetLogger(logr.Discard())
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	// Ctrl-C ends a renew --wait (and any request) at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand(streams).ExecuteContext(ctx)
	stop()
	if err != nil {
		var quiet silentError
		switch {
		case errors.As(err, &quiet):
		case meta.IsNoMatchError(err):
			fmt.Fprintln(os.Stderr, "error:", err, "(is the FigmaToken CRD installed? make install, or the Helm chart)")
		default:
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(1)
	}
}

// silentError fails the command after it has already said why (renew --wait's, connect's
// and consumers' outcomes).
type silentError struct{ error }
