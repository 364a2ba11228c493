package main

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// session is a connection to the cluster the flags name, and the namespace they select.
type session struct {
	client    client.Client
	namespace string
}

func (o *options) connect() (*session, error) {
	config, err := o.flags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	// The namespace as kubectl picks it: -n, else the context's, else "default".
	namespace, _, err := o.flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := figmav1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	// A direct client: a command reads a few objects once, so no cache and no watch.
	c, err := client.New(config, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	return &session{client: c, namespace: namespace}, nil
}
