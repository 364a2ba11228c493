package main

import (
	"os/exec"
	"runtime"
)

// openBrowser asks the desktop to open url (open on macOS, xdg-open elsewhere), without
// waiting for the browser. An error only means the user opens the printed URL by hand.
func openBrowser(url string) error {
	opener := "xdg-open"
	if runtime.GOOS == "darwin" {
		opener = "open"
	}
	cmd := exec.Command(opener, url) //nolint:gosec // the URL this command built, passed as one argument
	if err := cmd.Start(); err != nil {
		return err
	}
	// Reap the opener when it exits; its outcome changes nothing.
	go func() { _ = cmd.Wait() }()
	return nil
}
