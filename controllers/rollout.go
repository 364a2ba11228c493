package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/rollout"
)

// restartWorkloads restarts each of spec.rolloutRestartTargets once per token, the way
// kubectl rollout restart does: it stamps the pod template with the token's refreshed-at
// time. A stamp is sent until it lands, so a crash between the Secret write and the
// restart does not lose the restart; stamps already sent are remembered, and recorded in
// status per workload (rolloutRestartsSent) until every workload has its stamp, when status
// records the token (obs.RestartedFor). So a workload is not patched again for the same
// token, after an operator restart either, and whatever another writer did to its stamp.
// A failure is a Warning Event; the token itself is fine. retry says a failure may pass by
// itself (not a missing workload, not a refused permission): the reconcile comes back after
// restartRetry rather than at the next refresh.
func (r *FigmaTokenReconciler) restartWorkloads(ctx context.Context, ft *figmav1alpha1.FigmaToken, obs policy.Observation) (out policy.Outcome, retry bool) {
	stamp := restartStamp(obs.Record.RefreshedAt)
	allSent := true
	for _, target := range ft.Spec.RolloutRestartTargets {
		w := workload{kind: target.Kind, name: string(target.Name)}
		if r.restartedFor(ft, w, obs.Record.RefreshedAt) {
			continue
		}
		if !r.RolloutRestarts {
			// Said once per token; the token itself is fine.
			r.Recorder.Eventf(ft, nil, corev1.EventTypeWarning, figmav1alpha1.ReasonRolloutRestartFailed, "RolloutRestart",
				"Not restarting %s %s: rollout restarts are disabled. Start the manager with --enable-rollout-restarts (Helm: rolloutRestarts.enabled=true; kustomize: the rollout-restarts component) to enable them.",
				target.Kind, target.Name)
			r.memory.rememberRestart(ft, w, stamp)
			continue
		}
		if err := rollout.Restart(ctx, r.Client, ft.Namespace, target.Kind, string(target.Name), stamp); err != nil {
			log.FromContext(ctx).Info("rollout restart failed", "kind", target.Kind, "name", target.Name, "error", err.Error())
			r.Recorder.Eventf(ft, nil, corev1.EventTypeWarning, figmav1alpha1.ReasonRolloutRestartFailed, "RolloutRestart",
				"Could not restart %s %s for the new token (%s); retrying at the next reconcile.", target.Kind, target.Name, apierrors.ReasonForError(err))
			allSent = false
			retry = retry || (!apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err))
			continue
		}
		r.memory.rememberRestart(ft, w, stamp)
		log.FromContext(ctx).V(1).Info("rollout restart", "kind", target.Kind, "name", target.Name, "restartedAt", stamp)
	}
	if allSent {
		out.RestartedFor = obs.Record.RefreshedAt
	}
	return out, retry
}

// restartRetry is how soon a rollout restart that failed for a passing reason (a timeout, an
// API server under load) is tried again.
const restartRetry = 10 * time.Second

// restartStamp is the restartedAt stamp for the token refreshed at refreshedAt.
func restartStamp(refreshedAt time.Time) string { return refreshedAt.UTC().Format(time.RFC3339) }

// restartedFor reports whether the workload was restarted for the token refreshed at
// refreshedAt: by this process (memory), or as status records while others were not yet.
func (r *FigmaTokenReconciler) restartedFor(ft *figmav1alpha1.FigmaToken, w workload, refreshedAt time.Time) bool {
	if r.memory.restartSent(ft, w, restartStamp(refreshedAt)) {
		return true
	}
	for _, sent := range ft.Status.RolloutRestartsSent {
		if sent.Kind == w.kind && string(sent.Name) == w.name && sent.RestartedFor.Equal(&metav1.Time{Time: refreshedAt}) {
			return true
		}
	}
	return false
}

// restartsSent lists, for status, the workloads restarted for the current token while others
// still wait for it; none once all are (status.rolloutRestartedFor says so).
func (r *FigmaTokenReconciler) restartsSent(ft *figmav1alpha1.FigmaToken, obs policy.Observation) []figmav1alpha1.RolloutRestartSent {
	if !obs.Owned() || !obs.TokenHeld {
		// Not knowing the current token (another writer took it away), keep what was sent.
		return ft.Status.RolloutRestartsSent
	}
	token := obs.Record.RefreshedAt
	if !r.RolloutRestarts || token.IsZero() || !token.After(obs.RestartedFor) {
		return nil
	}
	var sent []figmav1alpha1.RolloutRestartSent
	for _, target := range ft.Spec.RolloutRestartTargets {
		if r.restartedFor(ft, workload{kind: target.Kind, name: string(target.Name)}, token) {
			sent = append(sent, figmav1alpha1.RolloutRestartSent{RolloutRestartTarget: target, RestartedFor: metav1.NewTime(token.UTC())})
		}
	}
	return sent
}
