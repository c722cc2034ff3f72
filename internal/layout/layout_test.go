package layout

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/azs-courier/azs-courier"

// rules lists, per package folder (and the folders below it), the import
// path prefixes its non-test files must not use, and exceptions.
var rules = []struct {
	pkg    string
	banned []string
	except []string
}{
	{"app", []string{"github.com/spf13/cobra", "github.com/spf13/pflag", "fyne.io/", module + "/ui", module + "/cli"}, nil},
	{"cli", []string{"fyne.io/", module + "/ui", module + "/courier", module + "/pep", module + "/azure"},
		[]string{module + "/pep/pepsim", module + "/azure/azuresim"}},
	{"ui", []string{module + "/cli", module + "/courier", module + "/pep", module + "/azure"}, nil},
	{"courier", []string{"fyne.io/", module + "/app", module + "/ui", module + "/cli", module + "/pep", module + "/azure"}, nil},
	{"pep", []string{"fyne.io/", module + "/app", module + "/ui", module + "/cli", module + "/courier", module + "/azure"}, nil},
	{"azure", []string{"fyne.io/", module + "/app", module + "/ui", module + "/cli", module + "/courier", module + "/pep"}, nil},
}

func TestImportsPointDown(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, r := range rules {
		err := filepath.WalkDir(filepath.Join(root, r.pkg), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			checked++
			rel, _ := filepath.Rel(root, path)
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if bannedImport(p, r.banned, r.except) {
					t.Errorf("%s imports %s, which %s must not", rel, p, r.pkg)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 50 {
		t.Fatalf("checked only %d files; is the module root %s?", checked, root)
	}
}

func bannedImport(p string, banned, except []string) bool {
	for _, e := range except {
		if p == e || strings.HasPrefix(p, e+"/") {
			return false
		}
	}
	for _, b := range banned {
		if p == b || strings.HasPrefix(p, strings.TrimSuffix(b, "/")+"/") || (strings.HasSuffix(b, "/") && strings.HasPrefix(p, b)) {
			return true
		}
	}
	return false
}
