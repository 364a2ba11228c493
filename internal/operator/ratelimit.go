package operator

import (
	"math"

	"k8s.io/client-go/rest"
)

// The defaults of --kube-api-qps and --kube-api-burst: no client-side rate limit. The API
// server's Priority and Fairness (APF) paces every client by its flow schema, so a limiter
// in the client only slows the operator below the server's own pace; controller-runtime's
// GetConfig leaves it off likewise, as SIG API Machinery advises.
const (
	DefaultQPS   = -1
	DefaultBurst = 0
)

// SetRateLimit sets config's client-side rate limit from --kube-api-qps and
// --kube-api-burst: a QPS of 0 or less disables the limiter (client-go's negative QPS); a
// positive one sets it, with burst, or, when burst is 0 or less, the QPS rounded up.
func SetRateLimit(config *rest.Config, qps float64, burst int) {
	if qps <= 0 {
		config.QPS, config.Burst = -1, 0
		return
	}
	if burst <= 0 {
		burst = int(math.Ceil(qps))
	}
	config.QPS, config.Burst = float32(qps), burst
}
