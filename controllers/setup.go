package controllers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// Field indexes: FigmaTokens by the Secrets they name (secretRef and target), and Secret
// metadata by the FigmaToken that controls it (the targets it created).
const (
	secretNameIndex  = ".spec.secretNames"
	targetOwnerIndex = ".metadata.controller.figmatoken"
	// clientRefIndex: FigmaTokens by "KIND/NAME" of spec.clientRef, and by the kind alone
	// for ClusterFigmaOAuthClient (a namespace's labels concern all of those).
	clientRefIndex = ".spec.clientRef"
)

// SetupWithManager registers the reconciler. Secrets are watched by metadata only, so no
// Secret data is cached; the few Secrets needed are read directly in observe.
func (r *FigmaTokenReconciler) SetupWithManager(mgr ctrl.Manager, maxConcurrentReconciles int) error {
	indexer := mgr.GetFieldIndexer()
	err := indexer.IndexField(context.Background(), &figmav1alpha1.FigmaToken{}, secretNameIndex, secretNames)
	if err != nil {
		return fmt.Errorf("indexing FigmaTokens by Secret: %w", err)
	}
	err = indexer.IndexField(context.Background(), secretMetadata(), targetOwnerIndex, controllingFigmaToken)
	if err != nil {
		return fmt.Errorf("indexing Secrets by controlling FigmaToken: %w", err)
	}
	err = indexer.IndexField(context.Background(), &figmav1alpha1.FigmaToken{}, clientRefIndex, clientRefKeys)
	if err != nil {
		return fmt.Errorf("indexing FigmaTokens by OAuth client: %w", err)
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("figmatoken").
		// Spec and annotation (refresh-requested-at) changes; status-only updates are ours.
		For(&figmav1alpha1.FigmaToken{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		// A FigmaToken that goes away or moves on hands its Secret to the others naming it.
		Watches(&figmav1alpha1.FigmaToken{}, handler.EnqueueRequestsFromMapFunc(r.siblingsOf),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.referencing),
			builder.WithPredicates(r.notOwnWrite())).
		// A FigmaToken re-checks its OAuth client at once when the client changes.
		Watches(&figmav1alpha1.FigmaOAuthClient{}, handler.EnqueueRequestsFromMapFunc(r.usersOfClient),
			builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	if r.Clients.ClusterClients {
		b = b.Watches(&figmav1alpha1.ClusterFigmaOAuthClient{}, handler.EnqueueRequestsFromMapFunc(r.usersOfClient),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
			WatchesMetadata(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.usersOfClusterClientsIn),
				builder.WithPredicates(predicate.LabelChangedPredicate{}))
	}
	return b.WithOptions(controller.Options{MaxConcurrentReconciles: maxConcurrentReconciles}).Complete(r)
}

func clientRefKeys(obj client.Object) []string {
	ref := obj.(*figmav1alpha1.FigmaToken).Spec.ClientRef
	if ref == nil {
		return nil
	}
	kind := refKind(ref)
	keys := []string{kind + "/" + string(ref.Name)}
	if kind == figmav1alpha1.KindClusterFigmaOAuthClient {
		keys = append(keys, kind)
	}
	return keys
}

// usersOfClient maps an OAuth client to the FigmaTokens that name it.
func (r *FigmaTokenReconciler) usersOfClient(ctx context.Context, obj client.Object) []reconcile.Request {
	kind := figmav1alpha1.KindFigmaOAuthClient
	if obj.GetNamespace() == "" {
		kind = figmav1alpha1.KindClusterFigmaOAuthClient
	}
	return r.byClientRef(ctx, obj.GetNamespace(), kind+"/"+obj.GetName())
}

// usersOfClusterClientsIn maps a Namespace whose labels changed to its FigmaTokens that
// name a ClusterFigmaOAuthClient: its namespaceSelector may admit them now, or no longer.
func (r *FigmaTokenReconciler) usersOfClusterClientsIn(ctx context.Context, ns client.Object) []reconcile.Request {
	return r.byClientRef(ctx, ns.GetName(), figmav1alpha1.KindClusterFigmaOAuthClient)
}

// usersOfClientSecret maps a Secret to the FigmaTokens whose OAuth client keeps its secret
// there: a FigmaOAuthClient of the same namespace, or a ClusterFigmaOAuthClient when the
// Secret is in the cluster resource namespace.
func (r *FigmaTokenReconciler) usersOfClientSecret(ctx context.Context, secret client.Object) []reconcile.Request {
	var requests []reconcile.Request
	var local figmav1alpha1.FigmaOAuthClientList
	if err := r.Client.List(ctx, &local, client.InNamespace(secret.GetNamespace()), client.MatchingFields{clientSecretIndex: secret.GetName()}); err == nil {
		for _, c := range local.Items {
			requests = append(requests, r.byClientRef(ctx, c.Namespace, figmav1alpha1.KindFigmaOAuthClient+"/"+c.Name)...)
		}
	}
	if !r.Clients.ClusterClients || secret.GetNamespace() != r.Clients.ClusterResourceNamespace {
		return requests
	}
	var cluster figmav1alpha1.ClusterFigmaOAuthClientList
	if err := r.Client.List(ctx, &cluster, client.MatchingFields{clientSecretIndex: secret.GetName()}); err == nil {
		for _, c := range cluster.Items {
			requests = append(requests, r.byClientRef(ctx, "", figmav1alpha1.KindClusterFigmaOAuthClient+"/"+c.Name)...)
		}
	}
	return requests
}

// byClientRef lists the FigmaTokens (of namespace, all when "") under a clientRefIndex key.
func (r *FigmaTokenReconciler) byClientRef(ctx context.Context, namespace, key string) []reconcile.Request {
	return r.listed(ctx, namespace, clientRefIndex, key, "")
}

func secretNames(obj client.Object) []string {
	spec := obj.(*figmav1alpha1.FigmaToken).Spec
	if spec.Target != nil && string(spec.Target.Name) != string(spec.SecretRef.Name) {
		return []string{string(spec.SecretRef.Name), string(spec.Target.Name)}
	}
	return []string{string(spec.SecretRef.Name)}
}

func controllingFigmaToken(obj client.Object) []string {
	ref := metav1.GetControllerOf(obj)
	if ref == nil || ref.Kind != "FigmaToken" || ref.APIVersion != figmav1alpha1.GroupVersion.String() {
		return nil
	}
	return []string{ref.Name}
}

// secretMetadata is the cache's metadata-only view of a Secret.
func secretMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return m
}

// referencing maps a Secret to the FigmaTokens that name it or whose OAuth client keeps
// its secret there.
func (r *FigmaTokenReconciler) referencing(ctx context.Context, secret client.Object) []reconcile.Request {
	return append(r.byIndex(ctx, secret.GetNamespace(), secret.GetName(), ""), r.usersOfClientSecret(ctx, secret)...)
}

// siblingsOf maps a FigmaToken to the other FigmaTokens that reference the same Secret.
func (r *FigmaTokenReconciler) siblingsOf(ctx context.Context, obj client.Object) []reconcile.Request {
	ft := obj.(*figmav1alpha1.FigmaToken)
	return r.byIndex(ctx, ft.Namespace, string(ft.Spec.SecretRef.Name), ft.Name)
}

func (r *FigmaTokenReconciler) byIndex(ctx context.Context, namespace, secretName, except string) []reconcile.Request {
	return r.listed(ctx, namespace, secretNameIndex, secretName, except)
}

// listed lists the FigmaTokens (of namespace, all when "") whose field index holds value,
// but except, as requests.
func (r *FigmaTokenReconciler) listed(ctx context.Context, namespace, index, value, except string) []reconcile.Request {
	var list figmav1alpha1.FigmaTokenList
	if err := r.Client.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{index: value}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing FigmaTokens", "index", index, "value", value)
		return nil
	}
	requests := make([]reconcile.Request, 0, len(list.Items))
	for _, ft := range list.Items {
		if ft.Name != except {
			requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ft.Namespace, Name: ft.Name}})
		}
	}
	return requests
}

// notOwnWrite drops the Secret update events caused by the operator's own writes: the
// Secret already says what the reconcile that wrote it knew.
func (r *FigmaTokenReconciler) notOwnWrite() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return !r.Secrets.IsOwnWrite(e.ObjectOld, e.ObjectNew)
	}}
}

// cacheDoubtFor is how long after the API server was out of reach the cache may still miss
// changes: an informer whose watch failed retries with a backoff that grows to between 30 and
// 60 s (less with the manager's reconnecting transport), and sees nothing of what changed
// until a retry succeeds.
const cacheDoubtFor = time.Minute

// WatchHealth remembers when the cache's watches last broke: a watch failed, or a request found
// no API server. Until cacheDoubtFor has passed, observe reads Secrets from the API server
// rather than trusting their cached metadata: a refresh token rotated during an outage is then
// used as soon as a reconcile comes, such as a new leader's first one.
type WatchHealth struct {
	clock clock.PassiveClock
	// failedAt is the last failure, in Unix nanoseconds; 0 when none.
	failedAt atomic.Int64
}

// NewWatchHealth tracks watch failures by clk's time.
func NewWatchHealth(clk clock.PassiveClock) *WatchHealth {
	return &WatchHealth{clock: clk}
}

// Failed notes that a request found no API server: the watches are broken too.
func (h *WatchHealth) Failed() {
	h.failedAt.Store(h.clock.Now().UnixNano())
}

// HandleWatchError is the cache's watch error handler (cache.Options.DefaultWatchErrorHandler):
// it notes the failure and logs it as client-go does. A watch that ended normally (EOF) is
// no failure. (A refused watch is retried inside client-go without reaching it: Failed, told
// by the manager's transport, covers that.)
func (h *WatchHealth) HandleWatchError(ctx context.Context, r *toolscache.Reflector, err error) {
	if !errors.Is(err, io.EOF) {
		h.Failed()
	}
	toolscache.DefaultWatchErrorHandler(ctx, r, err)
}

// CacheTrusted reports whether the watches have not broken for cacheDoubtFor. Without a
// tracker (nil), the cache is trusted.
func (h *WatchHealth) CacheTrusted() bool {
	if h == nil {
		return true
	}
	failedAt := h.failedAt.Load()
	return failedAt == 0 || h.clock.Since(time.Unix(0, failedAt)) >= cacheDoubtFor
}
