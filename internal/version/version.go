// Package version names the build of the manager: the release it was stamped with and the
// source revision Go recorded.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the release, stamped at build time:
// go build -ldflags "-X github.com/tokenops/figma-token-operator/internal/version.Version=v0.2.0".
var Version = "dev"

// Revision is the source revision Go recorded at build time, "unknown" without one.
func Revision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && s.Value != "" {
			return s.Value
		}
	}
	return "unknown"
}

// String is what --version prints: the version first, so scripts can take the first field
// after the name.
func String() string {
	return fmt.Sprintf("figma-token-operator %s (revision %s, %s)", Version, Revision(), runtime.Version())
}
