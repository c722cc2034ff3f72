//go:build !windows

package cli

import (
	"io"
	"os"
)

// consoleWriter returns f: Unix terminals and pipes carry UTF-8.
func consoleWriter(f *os.File) io.Writer { return f }
