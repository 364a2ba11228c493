package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

type consumersOptions struct {
	within time.Duration
	output string
}

func newConsumersCommand(o *options) *cobra.Command {
	co := &consumersOptions{}
	cmd := &cobra.Command{
		Use:   "consumers NAME",
		Short: "List the pods that use a FigmaToken's access token, and those that hold an old or expiring one",
		Long: `List the containers of the FigmaToken's namespace that use the access token in the Secret
it writes (status.secretName, else spec.target.name, else spec.secretRef.name), and how:

  volume    a Secret or projected volume: follows refreshes (the kubelet updates the file
            within about a minute)
  subPath   a file of such a volume mounted with subPath: fixed at the container's start,
            never updated
  env       an environment variable (valueFrom.secretKeyRef): fixed at the container's start
  envFrom   all the Secret's keys as environment variables: fixed at the container's start

For subPath and env consumers, HOLDS says whether the token fixed at the start is the current
one and EXPIRES when it expires at the latest, from the container's start
(status.containerStatuses[].state.running.startedAt) and the Secret's
figma.tokenops.dev/refreshed-at (R) and expires-at annotations (the lifetime L is their
difference):
  current           started at R + 1m or later: expires with the current token, at R + L
  older             started before R: a token obtained no later than the start, expiring at
                    the latest at start + L (every token lives L, as Figma's 90 days do)
  current-or-older  started within 1m after R, while the kubelet may still have served the
                    older token: at the latest R + L
  not-running       not running now: it reads the Secret when it starts
A consumer is stale (STALE yes) when that time is not after now + --within: restart it
(kubectl rollout restart), or mount the Secret as a volume without subPath.

Pods are read with your own permissions: needs get on figmatokens and secrets (metadata
only, never values) and list on pods; the operator reads no pods.
Exit status: 1 when a consumer is stale, or on an error (not found, forbidden).`,
		Example: `  kubectl figmatoken consumers design-system -n web
  kubectl figmatoken consumers design-system -n web --within 72h -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if co.output != "" && co.output != "json" {
				return fmt.Errorf("--output must be json or left out, got %q", co.output)
			}
			if co.within < 0 {
				return fmt.Errorf("--within must not be negative, got %s", co.within)
			}
			s, err := o.connect()
			if err != nil {
				return err
			}
			ft := &figmav1alpha1.FigmaToken{}
			if err := s.client.Get(cmd.Context(), client.ObjectKey{Namespace: s.namespace, Name: args[0]}, ft); err != nil {
				return err
			}
			now := time.Now()
			r, err := s.consumers(cmd.Context(), ft, nil, co.within, now)
			if err != nil {
				return err
			}
			if co.output == "json" {
				err = printConsumersJSON(o.streams.Out, r)
			} else {
				err = printConsumers(o.streams.Out, r, now)
			}
			if err != nil {
				return err
			}
			if r.Stale > 0 {
				return silentError{fmt.Errorf("%d stale consumers", r.Stale)}
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&co.within, "within", 24*time.Hour, "a consumer is stale when its token expires within this time from now, a Go duration (72h, 30m)")
	cmd.Flags().StringVarP(&co.output, "output", "o", "", "json: the report as JSON (for CI); default a table")
	return cmd
}

// consumersReport is what consumers prints, and what -o json writes.
type consumersReport struct {
	FigmaToken string `json:"figmaToken"`
	Namespace  string `json:"namespace"`
	Secret     string `json:"secret"`
	Key        string `json:"key"`
	// RefreshedAt and ExpiresAt are the current token's, from the Secret's annotations.
	RefreshedAt *time.Time `json:"refreshedAt,omitempty"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
	Within      string     `json:"within"`
	Stale       int        `json:"stale"`
	Consumers   []consumer `json:"consumers"`
}

// consumedSecret is the Secret the FigmaToken writes the access token to.
func consumedSecret(ft *figmav1alpha1.FigmaToken) string {
	switch {
	case ft.Status.SecretName != "":
		return ft.Status.SecretName
	case ft.Spec.Target != nil:
		return string(ft.Spec.Target.Name)
	default:
		return string(ft.Spec.SecretRef.Name)
	}
}

// consumers lists and judges the consumers of the FigmaToken's token. annotations are the
// Secret's when the caller has read it; nil reads its metadata (never its values).
func (s *session) consumers(ctx context.Context, ft *figmav1alpha1.FigmaToken, annotations map[string]string, within time.Duration, now time.Time) (*consumersReport, error) {
	r := &consumersReport{FigmaToken: ft.Name, Namespace: ft.Namespace, Secret: consumedSecret(ft), Key: accessTokenKey(ft), Within: shortDuration(within), Consumers: []consumer{}}
	pods := &corev1.PodList{}
	if err := s.client.List(ctx, pods, client.InNamespace(ft.Namespace)); err != nil {
		return nil, fmt.Errorf("listing the pods of namespace %s (with your own permissions): %w", ft.Namespace, err)
	}
	if annotations == nil {
		meta := &metav1.PartialObjectMetadata{}
		meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
		err := s.client.Get(ctx, client.ObjectKey{Namespace: ft.Namespace, Name: r.Secret}, meta)
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("reading Secret %s/%s: %w", ft.Namespace, r.Secret, err)
		}
		annotations = meta.Annotations
	}
	record := tokensecret.ReadRecord(annotations)
	w := written{refreshedAt: record.RefreshedAt, expiresAt: record.ExpiresAt}
	if !w.refreshedAt.IsZero() {
		r.RefreshedAt = &w.refreshedAt
	}
	if !w.expiresAt.IsZero() {
		r.ExpiresAt = &w.expiresAt
	}
	for _, c := range findConsumers(pods.Items, r.Secret, r.Key) {
		c = judgeConsumer(c, w, now, within)
		if c.Stale {
			r.Stale++
		}
		r.Consumers = append(r.Consumers, c)
	}
	sort.SliceStable(r.Consumers, func(i, j int) bool {
		a, b := r.Consumers[i], r.Consumers[j]
		if a.Pod != b.Pod {
			return a.Pod < b.Pod
		}
		return a.Container < b.Container
	})
	return r, nil
}
