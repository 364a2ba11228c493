// Package v1alpha1 holds the FigmaToken API, group figma.tokenops.dev.
// +kubebuilder:object:generate=true
// +groupName=figma.tokenops.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of the FigmaToken API.
	GroupVersion = schema.GroupVersion{Group: "figma.tokenops.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the API types with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the API types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
