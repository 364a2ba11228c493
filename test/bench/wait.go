package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// waitLimit bounds every wait: a run that takes longer has found a fault.
const waitLimit = 20 * time.Minute

// waitReady watches the FigmaTokens of ns until n of them are Ready and pass check. A watch
// sees each status change once, where polling a list of 10,000 objects would load the very
// API server being measured, and it notices the last one at once.
func (s *stack) waitReady(ctx context.Context, ns string, n int, check func(*figmav1alpha1.FigmaToken) bool) error {
	ok := func(ft *figmav1alpha1.FigmaToken) bool {
		return meta.IsStatusConditionTrue(ft.Status.Conditions, figmav1alpha1.ConditionReady) && check(ft)
	}
	ready := map[string]bool{}
	count := func() int {
		c := 0
		for _, r := range ready {
			if r {
				c++
			}
		}
		return c
	}
	bar := progress("FigmaTokens Ready in "+ns, n)
	defer bar.stop()
	ctx, cancel := context.WithTimeout(ctx, waitLimit)
	defer cancel()
	for {
		var list figmav1alpha1.FigmaTokenList
		if err := s.client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return err
		}
		clear(ready)
		for i := range list.Items {
			ready[list.Items[i].Name] = ok(&list.Items[i])
		}
		readyNow := count()
		bar.set(readyNow)
		if readyNow >= n {
			return nil
		}
		w, err := s.client.Watch(ctx, &figmav1alpha1.FigmaTokenList{}, client.InNamespace(ns),
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
		if err != nil {
			return err
		}
		for ev := range w.ResultChan() {
			ft, isFT := ev.Object.(*figmav1alpha1.FigmaToken)
			if !isFT {
				break // an error event (e.g. the version expired): list again
			}
			was := ready[ft.Name]
			now := ev.Type != watch.Deleted && ok(ft)
			ready[ft.Name] = now
			if now != was {
				if now {
					readyNow++
				} else {
					readyNow--
				}
				bar.set(readyNow)
			}
			if readyNow >= n {
				w.Stop()
				return nil
			}
		}
		w.Stop()
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%d of %d FigmaTokens Ready in %s: %w", readyNow, n, ns, err)
		}
	}
}

// bar prints one progress line every five seconds while a phase runs.
type bar struct {
	done  atomic.Int64
	stopC chan struct{}
	once  sync.Once
}

func progress(what string, total int) *bar {
	b := &bar{stopC: make(chan struct{})}
	start := time.Now()
	go func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-b.stopC:
				return
			case <-tick.C:
				logf("  %s: %d of %d (%.0f s)", what, b.done.Load(), total, time.Since(start).Seconds())
			}
		}
	}()
	return b
}

func (b *bar) add(n int) { b.done.Add(int64(n)) }
func (b *bar) set(n int) { b.done.Store(int64(n)) }
func (b *bar) stop()     { b.once.Do(func() { close(b.stopC) }) }

// parallel runs do(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, do func(int) error) error {
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := do(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case jobs <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}
