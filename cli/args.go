package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/azs-courier/azs-courier/app"
)

// expandInputs turns the input arguments of a command that reads several
// files (qr decode) into the files to read, in order:
//   - "-" stays: standard input;
//   - a folder stands for the QR images (.png, .jpg, .jpeg) and frames.txt
//     files directly in it, in name order;
//   - with wildcards set (Windows, whose shells pass *.png to the program
//     unexpanded), an argument whose last element holds * or ? is a pattern,
//     matched without regard to case against the names in its folder, as
//     cmd does; a pattern that matches nothing is an error naming it.
//
// Anything else is passed on as a file name.
func expandInputs(args []string, wildcards bool) ([]string, error) {
	var out []string
	for _, arg := range args {
		if arg == "-" {
			out = append(out, arg)
			continue
		}
		if wildcards && hasWildcard(filepath.Base(arg)) {
			matches, err := globFold(arg)
			if err != nil {
				return nil, err
			}
			for _, m := range matches {
				files, err := inputsOf(m, false)
				if err != nil {
					return nil, err
				}
				out = append(out, files...)
			}
			continue
		}
		files, err := inputsOf(arg, true)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	return out, nil
}

// inputsOf returns path itself, or the QR inputs in it when it is a folder.
// A folder named on the command line must hold some; one matched by a
// pattern may be empty.
func inputsOf(path string, named bool) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return []string{path}, nil // the reader names what is wrong with it
	}
	files, err := app.QRInputsIn(path)
	if err != nil && named {
		return nil, err
	}
	return files, nil
}

func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?") }

// globFold returns the names in pattern's folder that its last element
// matches, ignoring case; * matches any run of characters and ? one
// character, and nothing else is special (Windows file names may hold [ and ]).
func globFold(pattern string) ([]string, error) {
	dir, pat := filepath.Split(pattern)
	list := dir
	if list == "" {
		list = "."
	}
	ents, err := os.ReadDir(list)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("the folder %s of %s does not exist; check the path and the drive letter", list, pattern)
		}
		return nil, fmt.Errorf("list the folder %s for %s: %w", list, pattern, err)
	}
	var out []string
	for _, e := range ents {
		if matchFold(pat, e.Name()) {
			out = append(out, dir+e.Name())
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no file matches %s; check the folder and the pattern (for example %s)", pattern, filepath.Join(strings.TrimSuffix(dir, string(filepath.Separator)), "*.png"))
	}
	slices.Sort(out)
	return out, nil
}

// matchFold reports whether name matches the * and ? pattern, ignoring case.
func matchFold(pattern, name string) bool {
	p, n := []rune(strings.ToLower(pattern)), []rune(strings.ToLower(name))
	// star and mark remember the last * and where in name it matched up to.
	pi, ni, star, mark := 0, 0, -1, 0
	for ni < len(n) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == n[ni]):
			pi++
			ni++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ni
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ni = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// singleFile returns the file a command that reads one file was given:
// path itself, or with wildcards set and a pattern in its last element the
// one file the pattern matches. A pattern matching several files is an
// error listing them, so the wrong token is never read by accident.
func singleFile(flag, path string, wildcards bool) (string, error) {
	if !wildcards || path == "-" || !hasWildcard(filepath.Base(path)) {
		return path, nil
	}
	matches, err := globFold(path)
	if err != nil {
		return "", err
	}
	if len(matches) > 1 {
		names := make([]string, 0, 3)
		for _, m := range matches[:min(3, len(matches))] {
			names = append(names, filepath.Base(m))
		}
		more := ""
		if len(matches) > 3 {
			more = fmt.Sprintf(" and %d more", len(matches)-3)
		}
		return "", fmt.Errorf("%s %s matches %d files (%s%s); name the one file to read", flag, path, len(matches), strings.Join(names, ", "), more)
	}
	return matches[0], nil
}

// quotedArg returns an error for the first argument holding a double quote
// when quotes is set (Windows). There a folder typed as "E:\codes\" ends in
// \", which the C runtime's rules read as a literal quote: the program gets
// E:\codes" and the rest of the line glued to it. No name a command takes
// can hold a quote, so this is always that mistake.
func quotedArg(args []string, quotes bool) error {
	if !quotes {
		return nil
	}
	for _, a := range args {
		if !strings.Contains(a, `"`) {
			continue
		}
		before, _, _ := strings.Cut(a, `"`)
		return fmt.Errorf(`the argument %s has a " in it: a path in quotes that ends in a backslash ("%s\") makes Windows read \" as a quote; leave out the last backslash ("%s")`,
			app.Printable(a), strings.TrimSuffix(before, `\`), strings.TrimSuffix(before, `\`))
	}
	return nil
}
