// Package rollout restarts workloads the way kubectl rollout restart does: it stamps their
// pod template with an annotation, which rolls out new pods.
//
// Patching pod templates cluster-wide is a strong grant, so it is opt-in
// (--enable-rollout-restarts) and its RBAC is a ClusterRole of its own, generated from the
// marker below into config/components/rollout-restarts.
//
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=patch
package rollout

import (
	"context"
	"encoding/json"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// Restart sets the figma.tokenops.dev/restartedAt annotation of a Deployment, StatefulSet
// or DaemonSet's pod template to stamp, with one merge patch that touches nothing else.
func Restart(ctx context.Context, c client.Client, namespace, kind, name, stamp string) error {
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{
		"metadata": map[string]any{"annotations": map[string]string{figmav1alpha1.AnnotationRestartedAt: stamp}}}}})
	if err != nil {
		return err
	}
	workload := newWorkload(kind)
	workload.SetNamespace(namespace)
	workload.SetName(name)
	return c.Patch(ctx, workload, client.RawPatch(types.MergePatchType, patch))
}

func newWorkload(kind string) client.Object {
	switch kind {
	case "StatefulSet":
		return &appsv1.StatefulSet{}
	case "DaemonSet":
		return &appsv1.DaemonSet{}
	default:
		return &appsv1.Deployment{}
	}
}
