// Package testutil finds the project's shared test vectors for tests.
//
// The vectors live in ../shared/testdata beside the checkout (CI puts shared/
// there too). Tests never copy them into packages; they call [Shared].
// This package must never be imported by non-test code.
package testutil

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// ModuleRoot returns the directory that holds go.mod.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testutil: cannot locate the source file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Shared returns the path of elem under ../shared/testdata and fails the test,
// naming the expected path, when it is missing. There is no silent skip.
func Shared(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{ModuleRoot(t), "..", "shared", "testdata"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared test vectors missing: %s (CI puts shared/ beside the checkout): %v", p, err)
	}
	return p
}

// ReadShared returns the contents of a file under ../shared/testdata.
func ReadShared(t testing.TB, elem ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(Shared(t, elem...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
