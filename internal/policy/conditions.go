package policy

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// SetConditions writes the decision's Ready, Stalled and Reconciling into conds, each with
// observedGeneration. Stalled and Reconciling are removed when they do not hold (kstatus).
func (d Decision) SetConditions(conds *[]metav1.Condition, generation int64) {
	ready := metav1.Condition{Type: figmav1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: d.ReadyReason, Message: d.ReadyMessage, ObservedGeneration: generation}
	if d.Ready {
		ready.Status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(conds, ready)
	d.setOrRemove(conds, figmav1alpha1.ConditionStalled, generation, d.Stalled)
	d.setOrRemove(conds, figmav1alpha1.ConditionReconciling, generation, d.Reconciling)
}

func (d Decision) setOrRemove(conds *[]metav1.Condition, condType string, generation int64, holds bool) {
	if !holds {
		meta.RemoveStatusCondition(conds, condType)
		return
	}
	meta.SetStatusCondition(conds, metav1.Condition{
		Type: condType, Status: metav1.ConditionTrue, Reason: d.Reason, Message: d.Message, ObservedGeneration: generation,
	})
}
