//go:build !windows

package cli

import (
	"io"
	"os"
)

// consoleWriter returns f: Unix terminals and pipes carry UTF-8.
func consoleWriter(f *os.File) io.Writer { return f }

// inputCodePage is the code page of bytes piped to standard input that are
// not UTF-8: none on Unix.
func inputCodePage() uint32 { return 65001 }
