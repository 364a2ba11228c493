// Package controllers holds the FigmaToken reconciler.
package controllers

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/metrics"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/secretwrite"
)

// FigmaTokenReconciler keeps the access token in each FigmaToken's Secret fresh.
type FigmaTokenReconciler struct {
	// Client reads FigmaTokens from the cache and writes Secrets and status.
	Client client.Client
	// APIReader reads straight from the API server: a FigmaToken whose status patch met a
	// newer version.
	APIReader client.Reader
	// Secrets reads the few Secrets needed straight from the API server (no Secret data is
	// ever cached) and makes every Secret write; it keeps the tokens obtained.
	Secrets *secretwrite.Writer
	// SecretMetadata lists Secret metadata from the cache, to find the target Secrets a
	// FigmaToken created.
	SecretMetadata client.Reader
	// Clients resolves spec.clientRef into the upstream a refresh goes through.
	Clients  *OAuthClients
	Recorder recorder.EventRecorder
	Clock    clock.PassiveClock
	// RolloutRestarts allows patching the workloads in spec.rolloutRestartTargets
	// (--enable-rollout-restarts); its RBAC is granted only with it.
	RolloutRestarts bool
	// Watches says whether the cache's watches failed lately, when its metadata may be
	// stale; nil trusts the cache always.
	Watches *WatchHealth
	// Sharded says the cache holds only the FigmaTokens --watch-label-selector selects: the
	// FigmaTokens of other shards that share a Secret are listed from the API server.
	Sharded bool
	// Leading, when set, says why this replica may no longer lead (its leader-election
	// Lease not renewed within the renew deadline: it was paused, a standby may lead); a
	// reconcile then does nothing, not even an upstream call, and is retried. nil: always.
	Leading func() error

	// memory is what is kept about each FigmaToken between reconciles.
	memory memory
}

// +kubebuilder:rbac:groups=figma.tokenops.dev,resources=figmatokens,verbs=get;list;watch
// +kubebuilder:rbac:groups=figma.tokenops.dev,resources=figmatokens/status,verbs=get;patch
// Target Secrets carry an ownerReference with blockOwnerDeletion, which clusters enforcing
// OwnerReferencesPermissionEnforcement allow only with update on figmatokens/finalizers.
// +kubebuilder:rbac:groups=figma.tokenops.dev,resources=figmatokens/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile reads the FigmaToken and its Secret, decides whether a refresh is due, refreshes
// if so, and records the outcome in status, Events and metrics.
func (r *FigmaTokenReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if r.Leading != nil {
		if err := r.Leading(); err != nil {
			return ctrl.Result{}, fmt.Errorf("FigmaToken %s left alone: %w", req.NamespacedName, err)
		}
	}
	ft := &figmav1alpha1.FigmaToken{}
	if err := r.Client.Get(ctx, req.NamespacedName, ft); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("reading FigmaToken %s: %w", req.NamespacedName, err)
	}
	if !ft.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}

	rt, err := r.Clients.route(ctx, ft)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("resolving the OAuth client of FigmaToken %s: %w", req.NamespacedName, err)
	}
	obs, secrets, err := r.observe(ctx, ft, rt.seen)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("reading the Secrets of FigmaToken %s: %w", req.NamespacedName, err)
	}
	r.noteOverwrite(ctx, ft, secrets, &obs)
	d := policy.Decide(obs)
	// Whatever a later step meets, the outcome so far is recorded; the errors are returned
	// together so that the reconcile is retried.
	var errs []error
	if d.ReleaseSource {
		if err := r.releaseSource(ctx, ft, &secrets); err != nil {
			errs = append(errs, fmt.Errorf("releasing the Secret spec.secretRef names from its former role as target: %w", err))
		}
	}
	if d.Adopt {
		if err := r.adopt(ctx, ft, secrets, &obs); err != nil {
			errs = append(errs, fmt.Errorf("adopting the token an earlier version wrote: %w", err))
		}
		d = policy.Decide(obs)
	}
	if d.Refresh {
		obs, d = r.refresh(ctx, ft, secrets, obs, rt)
	} else if d.SyncSource {
		if err := r.syncSource(ctx, ft, secrets, &obs); err != nil {
			errs = append(errs, fmt.Errorf("bringing the Secret to spec.secretRef's keys: %w", err))
		}
	} else if d.SyncTarget {
		if err := r.syncTarget(ctx, ft, secrets, obs); err != nil {
			errs = append(errs, fmt.Errorf("bringing the target Secret back to spec.target: %w", err))
		}
	}
	if d.PruneTargets {
		if err := r.deleteStaleTargets(ctx, ft); err != nil {
			errs = append(errs, fmt.Errorf("deleting target Secrets spec.target no longer names: %w", err))
		}
	}
	retryRestart := false
	if d.RestartWorkloads {
		retryRestart = r.restartWorkloads(ctx, ft, &obs)
	}
	r.memory.noteRestartedFor(ft, obs.RestartedFor)
	if err := r.record(ctx, ft, obs, d); err != nil {
		errs = append(errs, fmt.Errorf("recording the status: %w", err))
	}
	if len(errs) > 0 {
		return ctrl.Result{}, errors.Join(errs...)
	}
	// From the time now: an upstream call may have taken up to its 30 s deadline since obs.Now.
	after := d.RequeueAfter(r.Clock.Now())
	if retryRestart && (after == 0 || after > restartRetry) {
		after = restartRetry
	}
	return ctrl.Result{RequeueAfter: after}, nil
}

// forget drops what is kept for a deleted FigmaToken. Its Secret is left as it is.
func (r *FigmaTokenReconciler) forget(key types.NamespacedName) {
	r.memory.forget(key)
	r.Secrets.Forget(key)
	metrics.Forget(key.Namespace, key.Name)
	log.Log.V(1).Info("FigmaToken deleted; its Secret is left as it is", "figmatoken", key)
}
