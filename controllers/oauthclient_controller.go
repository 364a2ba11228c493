package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// OAuthClientReconciler reports in each FigmaOAuthClient's and ClusterFigmaOAuthClient's
// status whether FigmaTokens may refresh through it (Ready). FigmaTokens judge a client
// themselves, with the same OAuthClients, so they never wait for this status.
type OAuthClientReconciler struct {
	Client   client.Client
	Clients  *OAuthClients
	Recorder recorder.EventRecorder
}

// +kubebuilder:rbac:groups=figma.tokenops.dev,resources=figmaoauthclients;clusterfigmaoauthclients,verbs=get;list;watch
// +kubebuilder:rbac:groups=figma.tokenops.dev,resources=figmaoauthclients/status;clusterfigmaoauthclients/status,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// clientSecretIndex indexes OAuth clients by the name of their client Secret.
const clientSecretIndex = ".spec.figma.clientSecretRef.name" //nolint:gosec // a field path, not a credential

func clientSecretName(obj client.Object) []string {
	var spec figmav1alpha1.OAuthClientSpec
	switch c := obj.(type) {
	case *figmav1alpha1.FigmaOAuthClient:
		spec = c.Spec
	case *figmav1alpha1.ClusterFigmaOAuthClient:
		spec = c.Spec.OAuthClientSpec
	}
	if spec.Figma == nil {
		return nil
	}
	return []string{string(spec.Figma.ClientSecretRef.Name)}
}

// SetupWithManager registers a controller for FigmaOAuthClients and, when the manager may
// read them, one for ClusterFigmaOAuthClients.
func (r *OAuthClientReconciler) SetupWithManager(mgr ctrl.Manager) error {
	ctx := context.Background()
	if err := mgr.GetFieldIndexer().IndexField(ctx, &figmav1alpha1.FigmaOAuthClient{}, clientSecretIndex, clientSecretName); err != nil {
		return fmt.Errorf("indexing FigmaOAuthClients by Secret: %w", err)
	}
	err := ctrl.NewControllerManagedBy(mgr).Named("figmaoauthclient").
		For(&figmav1alpha1.FigmaOAuthClient{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.namespacedClientsOf)).
		Complete(reconcile.Func(r.reconcileNamespaced))
	if err != nil || !r.Clients.ClusterClients {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &figmav1alpha1.ClusterFigmaOAuthClient{}, clientSecretIndex, clientSecretName); err != nil {
		return fmt.Errorf("indexing ClusterFigmaOAuthClients by Secret: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).Named("clusterfigmaoauthclient").
		For(&figmav1alpha1.ClusterFigmaOAuthClient{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.clusterClientsOf)).
		Complete(reconcile.Func(r.reconcileCluster))
}

func (r *OAuthClientReconciler) reconcileNamespaced(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	c := &figmav1alpha1.FigmaOAuthClient{}
	if err := r.Client.Get(ctx, req.NamespacedName, c); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	status, err := r.status(ctx, c, c.Spec, c.Status, c.Namespace, c.Namespace)
	if err != nil || status == nil {
		return reconcile.Result{}, err
	}
	patched := c.DeepCopy()
	patched.Status = *status
	return reconcile.Result{}, client.IgnoreNotFound(r.Client.Status().Patch(ctx, patched, client.MergeFrom(c)))
}

func (r *OAuthClientReconciler) reconcileCluster(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	c := &figmav1alpha1.ClusterFigmaOAuthClient{}
	if err := r.Client.Get(ctx, req.NamespacedName, c); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	status, err := r.status(ctx, c, c.Spec.OAuthClientSpec, c.Status, r.Clients.ClusterResourceNamespace, "")
	if err != nil || status == nil {
		return reconcile.Result{}, err
	}
	patched := c.DeepCopy()
	patched.Status = *status
	return reconcile.Result{}, client.IgnoreNotFound(r.Client.Status().Patch(ctx, patched, client.MergeFrom(c)))
}

// status is the client's status as it should be, nil when the current one says it already
// (so that several instances, shards, do not write it in turn). A Ready that turns False
// gets a Warning Event, once per reason.
func (r *OAuthClientReconciler) status(ctx context.Context, obj client.Object, spec figmav1alpha1.OAuthClientSpec,
	current figmav1alpha1.OAuthClientStatus, secretNamespace, namespace string) (*figmav1alpha1.OAuthClientStatus, error) {
	usable, err := r.Clients.check(ctx, spec, secretNamespace, namespace)
	if err != nil {
		return nil, err
	}
	desired := current.DeepCopy()
	desired.ObservedGeneration = obj.GetGeneration()
	desired.Upstream = figmav1alpha1.UpstreamFigma
	if spec.Amplify != nil {
		desired.Upstream = figmav1alpha1.UpstreamAmplify
	}
	ready := metav1.Condition{Type: figmav1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: figmav1alpha1.ReasonUsable,
		Message: fmt.Sprintf("FigmaTokens may refresh through the %s upstream with this client.", desired.Upstream), ObservedGeneration: obj.GetGeneration()}
	before := meta.FindStatusCondition(current.Conditions, figmav1alpha1.ConditionReady)
	if usable.reason != "" {
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, usable.reason, usable.message
		// Only a person fixes a client: Stalled, so that kstatus (Flux) reads Failed.
		stalled := ready
		stalled.Type, stalled.Status = figmav1alpha1.ConditionStalled, metav1.ConditionTrue
		meta.SetStatusCondition(&desired.Conditions, stalled)
	} else {
		meta.RemoveStatusCondition(&desired.Conditions, figmav1alpha1.ConditionStalled)
	}
	meta.SetStatusCondition(&desired.Conditions, ready)
	if equality.Semantic.DeepEqual(*desired, current) {
		return nil, nil
	}
	if ready.Status == metav1.ConditionFalse && (before == nil || before.Status != metav1.ConditionFalse || before.Reason != ready.Reason) {
		r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, ready.Reason, "Check", "%s", ready.Message)
	}
	return desired, nil
}

// namespacedClientsOf maps a Secret to the FigmaOAuthClients of its namespace that use it.
func (r *OAuthClientReconciler) namespacedClientsOf(ctx context.Context, secret client.Object) []reconcile.Request {
	var list figmav1alpha1.FigmaOAuthClientList
	if err := r.Client.List(ctx, &list, client.InNamespace(secret.GetNamespace()), client.MatchingFields{clientSecretIndex: secret.GetName()}); err != nil {
		return nil
	}
	requests := make([]reconcile.Request, 0, len(list.Items))
	for _, c := range list.Items {
		requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: c.Namespace, Name: c.Name}})
	}
	return requests
}

// clusterClientsOf maps a Secret of the cluster resource namespace to the
// ClusterFigmaOAuthClients that use it.
func (r *OAuthClientReconciler) clusterClientsOf(ctx context.Context, secret client.Object) []reconcile.Request {
	if secret.GetNamespace() != r.Clients.ClusterResourceNamespace {
		return nil
	}
	var list figmav1alpha1.ClusterFigmaOAuthClientList
	if err := r.Client.List(ctx, &list, client.MatchingFields{clientSecretIndex: secret.GetName()}); err != nil {
		return nil
	}
	requests := make([]reconcile.Request, 0, len(list.Items))
	for _, c := range list.Items {
		requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Name: c.Name}})
	}
	return requests
}
