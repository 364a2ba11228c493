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
	// SecretReader reads the few Secrets needed straight from the API server, so that no
	// Secret data is ever cached.
	SecretReader client.Reader
	// SecretMetadata lists Secret metadata from the cache, to find the target Secrets a
	// FigmaToken created.
	SecretMetadata client.Reader
	Upstream       amplify.Refresher
	Recorder       recorder.EventRecorder
	Clock          clock.PassiveClock

	// failures remembers failure streaks until the cache shows the status written for them.
	failures failureMemory
	// restarts remembers the rollout restarts already sent.
	restarts restartMemory
	// exchanges keeps tokens from an authorization code until they are stored.
	exchanges exchangeMemory
	// ownWrites lets the Secret watch skip the events of the operator's own writes.
	ownWrites ownWrites
}

// +kubebuilder:rbac:groups=figma.tokenops.dev,resources=figmatokens,verbs=get;list;watch
// +kubebuilder:rbac:groups=figma.tokenops.dev,resources=figmatokens/status,verbs=get;patch
// Target Secrets carry an ownerReference with blockOwnerDeletion, which clusters enforcing
// OwnerReferencesPermissionEnforcement allow only with update on figmatokens/finalizers.
// +kubebuilder:rbac:groups=figma.tokenops.dev,resources=figmatokens/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;delete
// Rollout restarts patch the pod template of the workloads a FigmaToken lists; nothing else.
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=patch
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
	r.exchanges.forget(key)
	r.restarts.forget(key)
	metrics.Forget(key.Namespace, key.Name)
	log.Log.V(1).Info("FigmaToken deleted; its Secret is left as it is", "figmatoken", key)
}
