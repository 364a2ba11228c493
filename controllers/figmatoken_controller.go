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

// maxLooks bounds how often one reconcile looks at its Secrets again after a write found
// them changed: as often as client-go retries a conflict (retry.DefaultRetry's five tries).
const maxLooks = 4

// Reconcile reads the FigmaToken and its Secrets once (observe), then decides and acts until
// the decision asks for nothing more: each act reports what it did as a policy.Outcome,
// which policy.Fold takes into the observation, and the next decision is made on that. A
// write that finds a Secret changed is a look again, not a retry of the write. It ends by
// recording the outcome in status, Events and metrics.
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
	// Whatever a later act meets, the outcome so far is recorded; the errors are returned
	// together so that the reconcile is retried.
	var errs []error
	var done policy.Act
	var retryRestart bool
	looks := 0
	for {
		d := policy.Decide(obs)
		act := d.NextAct(done)
		if act == 0 {
			return r.finish(ctx, ft, obs, d, errs, retryRestart)
		}
		done |= act
		out, err := r.act(ctx, act, ft, &secrets, obs, rt)
		if out.Conflict && looks < maxLooks {
			// A Secret changed since it was read: look again, and decide on what is there now.
			looks++
			again, s, err := r.observeSecrets(ctx, ft, rt.seen)
			if err != nil {
				errs = append(errs, fmt.Errorf("reading the Secrets of FigmaToken %s again: %w", req.NamespacedName, err))
				return r.finish(ctx, ft, obs, d, errs, retryRestart)
			}
			obs, secrets, done = again, s, done&^act
			continue
		}
		if err != nil {
			errs = append(errs, err)
		}
		retryRestart = retryRestart || out.RetryRestart
		obs = r.fold(ft, obs, out.Outcome)
	}
}

// finish records the observation and decision and says when to come back.
func (r *FigmaTokenReconciler) finish(ctx context.Context, ft *figmav1alpha1.FigmaToken, obs policy.Observation, d policy.Decision,
	errs []error, retryRestart bool) (ctrl.Result, error) {
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

// fold takes an act's outcome into the observation (policy.Fold), records the Event it is
// worth, and remembers the failure streak until status shows it.
func (r *FigmaTokenReconciler) fold(ft *figmav1alpha1.FigmaToken, obs policy.Observation, out policy.Outcome) policy.Observation {
	obs, ev := policy.Fold(obs, out)
	if ev.Reason != "" {
		r.Recorder.Eventf(ft, nil, ev.Type, ev.Reason, ev.Action, "%s", ev.Message)
	}
	if out.Failure != nil || out.Wrote != nil {
		r.memory.rememberFailure(ft, obs.Failure)
	}
	return obs
}

// forget drops what is kept for a deleted FigmaToken. Its Secret is left as it is.
func (r *FigmaTokenReconciler) forget(key types.NamespacedName) {
	r.memory.forget(key)
	r.Secrets.Forget(key)
	metrics.Forget(key.Namespace, key.Name)
	log.Log.V(1).Info("FigmaToken deleted; its Secret is left as it is", "figmatoken", key)
}
