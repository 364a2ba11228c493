// Command secret-projector does what the kubelet does for a Secret volume, with the kubelet's
// own code: on every change of one Secret it projects the Secret into a directory with
// pkg/volume/secret.MakePayload and pkg/volume/util.AtomicWriter. There is no kubelet in the
// test environment; this lets tests check what a pod mounting the Secret reads.
//
// It prints "projected <resourceVersion>" after each projection.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/kubernetes/pkg/volume/secret"
	volumeutil "k8s.io/kubernetes/pkg/volume/util"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the API server")
	namespace := flag.String("namespace", "default", "namespace of the Secret")
	name := flag.String("secret", "", "name of the Secret")
	dir := flag.String("dir", "", "directory to project the Secret into, as a volume mount")
	flag.Parse()
	if err := run(*kubeconfig, *namespace, *name, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "secret-projector:", err)
		os.Exit(1)
	}
}

func run(kubeconfig, namespace, name, dir string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	writer, err := volumeutil.NewAtomicWriter(dir, "secret-projector")
	if err != nil {
		return err
	}

	project := func(obj any) {
		s, ok := obj.(*corev1.Secret)
		if !ok {
			return
		}
		mode := int32(0o644)
		payload, err := secret.MakePayload(nil, s, &mode, nil, false)
		if err == nil {
			err = writer.Write(payload, nil)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "secret-projector: projecting:", err)
			return
		}
		fmt.Println("projected", s.ResourceVersion)
	}

	factory := informers.NewSharedInformerFactoryWithOptions(clientset, 0,
		informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
		}))
	informer := factory.Core().V1().Secrets().Informer()
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    project,
		UpdateFunc: func(_, obj any) { project(obj) },
	}); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	factory.Start(ctx.Done())
	<-ctx.Done()
	factory.Shutdown()
	return nil
}
