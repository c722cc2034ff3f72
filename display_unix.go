//go:build unix && !darwin

package main

import (
	"errors"
	"os"
)

// displayProblem reports why no window can open: neither an X display nor
// a Wayland one is set (a session over SSH, a server without a desktop).
func displayProblem() error {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errors.New("no display found (DISPLAY and WAYLAND_DISPLAY are not set); use the command line (azs-courier --help), or log in to a desktop, or set DISPLAY")
	}
	return nil
}
