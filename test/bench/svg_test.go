package main

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// The plots are embedded in docs/benchmarks.md; a browser shows nothing of a malformed SVG.
func TestPlotsAreWellFormedSVG(t *testing.T) {
	curve := []curvePoint{{N: 100, Seconds: 1.2, RSSMiB: 40}, {N: 1000, Seconds: 9.8, RSSMiB: 45}, {N: 10000, Seconds: 101, RSSMiB: 98}}
	lateness := []float64{0, 0.01, 0.02, 0.05, 0.31, 0.49}
	for name, plot := range map[string]string{
		"scaling":  scalingPlot(curve),
		"lateness": latenessPlot(lateness, "6 routine refreshes of 1m0s tokens, N = 6 <goal>"),
		"empty":    latenessPlot(nil, "none"),
	} {
		d := xml.NewDecoder(strings.NewReader(plot))
		for {
			_, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if dir := os.Getenv("PLOT_DIR"); dir != "" {
			_ = os.WriteFile(dir+"/"+name+".svg", []byte(plot), 0o644)
		}
	}
}

func TestRSSSlopeIsTheLeastSquaresFit(t *testing.T) {
	slope, ok := rssSlope([]curvePoint{{N: 1000, RSSMiB: 45}, {N: 5000, RSSMiB: 65}, {N: 10000, RSSMiB: 90}})
	if !ok || slope < 4.99 || slope > 5.01 {
		t.Fatalf("slope %v, want 5 MiB per 1,000", slope)
	}
}
