// Package controllers holds the FigmaToken reconciler.
package controllers

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/amplify"
	"github.com/tokenops/figma-token-operator/internal/metrics"
)

// FigmaTokenReconciler keeps the access token in each FigmaToken's Secret fresh.
type FigmaTokenReconciler struct {
	// Client reads FigmaTokens from the cache and writes Secrets and status.
	Client client.Client
	// APIReader reads straight from the API server: the few Secrets needed, so that no
	// Secret data is ever cached, and a FigmaToken whose status patch met a newer version.
	APIReader client.Reader
	// SecretMetadata lists Secret metadata from the cache, to find the target Secrets a
	// FigmaToken created.
	SecretMetadata client.Reader
	Upstream       amplify.Refresher
	Recorder       recorder.EventRecorder
	Clock          clock.PassiveClock
	// RolloutRestarts allows patching the workloads in spec.rolloutRestartTargets
	// (--enable-rollout-restarts); its RBAC is granted only with it.
	RolloutRestarts bool

	// failures remembers failure streaks until the cache shows the status written for them.
	failures failureMemory
	// restarts remembers the rollout restarts already sent.
	restarts restartMemory
	// kept holds what was obtained from upstream until it is written.
	kept keptTokens
	// ownWrites lets the Secret watch skip the events of the operator's own writes.
	ownWrites ownWrites
	// statusVersions tells a cached FigmaToken that lags behind the last status written.
	statusVersions versions
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
	ft := &figmav1alpha1.FigmaToken{}
	if err := r.Client.Get(ctx, req.NamespacedName, ft); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if !ft.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}

	obs, secrets, err := r.observe(ctx, ft)
	if err != nil {
		return ctrl.Result{}, err
	}
	d := decide(obs)
	if d.refresh {
		obs, d = r.refresh(ctx, ft, secrets, obs)
	} else if err := r.syncTarget(ctx, ft, secrets, obs); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.deleteStaleTargets(ctx, ft); err != nil {
		return ctrl.Result{}, err
	}
	r.restartWorkloads(ctx, ft, obs)
	if err := r.record(ctx, ft, obs, d); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: wakeAfter(obs, d)}, nil
}

// wakeAfter is how long until the next planned refresh or, sooner, the expiry that turns
// Ready False. Zero means wait for a watch event.
func wakeAfter(o observation, d decision) time.Duration {
	wake := d.next
	if o.valid() && (wake.IsZero() || o.record.ExpiresAt.Before(wake)) {
		wake = o.record.ExpiresAt
	}
	if wake.IsZero() {
		return 0
	}
	return max(wake.Sub(o.now), time.Second)
}

// forget drops what is kept for a deleted FigmaToken. Its Secret is left as it is.
func (r *FigmaTokenReconciler) forget(key types.NamespacedName) {
	r.failures.forget(key)
	r.kept.forget(key)
	r.restarts.forget(key)
	r.statusVersions.forget(key)
	metrics.Forget(key.Namespace, key.Name)
	log.Log.V(1).Info("FigmaToken deleted; its Secret is left as it is", "figmatoken", key)
}
