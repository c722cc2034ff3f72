//go:build !unix || darwin

package main

// displayProblem reports why no window can open; Windows and macOS always
// have their desktop.
func displayProblem() error { return nil }
