package operator

import (
	"testing"

	"k8s.io/client-go/rest"
)

func TestSetRateLimit(t *testing.T) {
	tests := []struct {
		qps       float64
		burst     int
		wantQPS   float32
		wantBurst int
	}{
		{qps: DefaultQPS, burst: DefaultBurst, wantQPS: -1},
		{qps: 0, burst: 50, wantQPS: -1},
		{qps: -5, burst: 50, wantQPS: -1},
		{qps: 20, burst: 40, wantQPS: 20, wantBurst: 40},
		{qps: 2.5, burst: 0, wantQPS: 2.5, wantBurst: 3},
		{qps: 10, burst: -1, wantQPS: 10, wantBurst: 10},
	}
	for _, tt := range tests {
		config := &rest.Config{QPS: 5, Burst: 10}
		SetRateLimit(config, tt.qps, tt.burst)
		if config.QPS != tt.wantQPS || config.Burst != tt.wantBurst {
			t.Errorf("SetRateLimit(%v, %d) = %v, %d; want %v, %d", tt.qps, tt.burst, config.QPS, config.Burst, tt.wantQPS, tt.wantBurst)
		}
	}
}
