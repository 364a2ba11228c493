// Package v1alpha1 holds the FigmaToken API, group figma.tokenops.dev.
// +kubebuilder:object:generate=true
// +groupName=figma.tokenops.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of the FigmaToken API.
	GroupVersion = schema.GroupVersion{Group: "figma.tokenops.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the API types with a scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the API types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion, &FigmaToken{}, &FigmaTokenList{},
		&FigmaOAuthClient{}, &FigmaOAuthClientList{}, &ClusterFigmaOAuthClient{}, &ClusterFigmaOAuthClientList{})
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}
