package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

func newGetCommand(o *options) *cobra.Command {
	var allNamespaces bool
	var selector string
	cmd := &cobra.Command{
		Use:   "get",
		Short: "List FigmaTokens, most urgent first, with the time each token has left",
		Long: `List FigmaTokens like kubectl get, sorted by urgency: not Ready first, then the least time
left until the token expires.

Columns: NAMESPACE (with -A), NAME, READY (the Ready condition), REASON (Ready's reason; while
Ready is True, Stalled's or Reconciling's if either holds, so a working token whose refreshes
fail shows why), EXPIRES (time left: 59d, 5h20m; "expired"), NEXT-REFRESH (time until the
next refresh; "due"), AGE. "<none>": not known yet (no manager has reconciled it).`,
		Example: `  kubectl figmatoken get -A
  kubectl figmatoken get -n web -l team=design`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := o.connect()
			if err != nil {
				return err
			}
			items, err := s.list(cmd.Context(), allNamespaces, selector)
			if err != nil {
				return err
			}
			if len(items) == 0 {
				_, err := o.streams.ErrOut.Write([]byte("No FigmaTokens found.\n"))
				return err
			}
			byUrgency(items)
			return printTable(o.streams.Out, items, allNamespaces, time.Now())
		},
	}
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "list FigmaTokens in every namespace (NAMESPACE column), not only -n's")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "label selector, as kubectl's: -l team=design, -l 'tier in (a,b)'")
	return cmd
}

// list reads the FigmaTokens of the session's namespace, or of all with allNamespaces,
// that selector selects.
func (s *session) list(ctx context.Context, allNamespaces bool, selector string) ([]figmav1alpha1.FigmaToken, error) {
	opts := []client.ListOption{}
	if !allNamespaces {
		opts = append(opts, client.InNamespace(s.namespace))
	}
	if selector != "" {
		sel, err := labels.Parse(selector)
		if err != nil {
			return nil, err
		}
		opts = append(opts, client.MatchingLabelsSelector{Selector: sel})
	}
	list := &figmav1alpha1.FigmaTokenList{}
	if err := s.client.List(ctx, list, opts...); err != nil {
		return nil, err
	}
	return list.Items, nil
}
