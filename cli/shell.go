package cli

import (
	"fmt"
	"io"
	"strings"
)

// shell writes command lines in the syntax of one command shell, so that
// the instructions the simulators print can be pasted as they are: on
// Windows into PowerShell or cmd, elsewhere into a POSIX shell (bash, zsh,
// dash). Quotes that cmd does not remove would otherwise become part of the
// user name, and the PEP would answer 401.
type shell struct {
	name string
	// setEnv returns the line that sets an environment variable for the
	// commands that follow.
	setEnv func(name, value string) string
	// quote returns arg as one word of a command line.
	quote func(arg string) string
}

// line returns argv as a command line of the shell.
func (s shell) line(argv ...string) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = s.quote(a)
	}
	return strings.Join(words, " ")
}

// instructions is what a simulator tells people to paste: environment
// variables, then commands.
type instructions struct {
	env  [][2]string // name, value
	cmds [][]string  // argv of each command
}

// write prints the instructions for each shell, under a heading naming it.
func (in instructions) write(w io.Writer, shells []shell) {
	for i, s := range shells {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "In %s:\n", s.name)
		for _, kv := range in.env {
			fmt.Fprintf(w, "  %s\n", s.setEnv(kv[0], kv[1]))
		}
		for _, c := range in.cmds {
			fmt.Fprintf(w, "  %s\n", s.line(c...))
		}
	}
}

// shellNamed returns the shell the --shell flag names, or the shells of
// this platform for "".
func shellNamed(name string) ([]shell, error) {
	switch strings.ToLower(name) {
	case "":
		return userShells(), nil
	case "bash", "zsh", "sh", "posix":
		return []shell{posixShell}, nil
	case "powershell", "pwsh":
		return []shell{powerShell}, nil
	case "cmd":
		return []shell{cmdShell}, nil
	}
	return nil, fmt.Errorf("--shell %q is not bash, powershell or cmd", name)
}

// posixShell is sh, bash and zsh: single quotes keep everything but a
// single quote, which is written as '\”.
var posixShell = shell{
	name: "bash or zsh",
	setEnv: func(name, value string) string {
		return "export " + name + "=" + posixQuote(value)
	},
	quote: func(arg string) string {
		if arg != "" && isPlain(arg, "-_./:=,@+%") {
			return arg
		}
		return posixQuote(arg)
	},
}

func posixQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// powerShell is Windows PowerShell 5.1 and PowerShell 7: single-quoted
// strings are verbatim but for ” (one quote). A bare word is left bare
// only when it starts with a letter and holds none of PowerShell's
// operators: "," would make an array (two arguments), a leading digit may
// make a number (1e3 is passed as 1000), and "$", "@", "(", ";", "&", "{",
// "#", "`" and quotes all mean something.
var powerShell = shell{
	name: "PowerShell",
	setEnv: func(name, value string) string {
		return "$env:" + name + " = " + psQuote(value)
	},
	quote: func(arg string) string {
		if isFlag(arg) || arg != "" && isLetter(rune(arg[0])) && isPlain(arg, `-_./:=\`) {
			return arg
		}
		return psQuote(arg)
	},
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// isFlag reports a --long-option word, which PowerShell passes to a native
// program as it is.
func isFlag(s string) bool { return strings.HasPrefix(s, "--") && len(s) > 2 && isPlain(s, "-") }

// cmdShell is cmd.exe: double quotes group a word and stay in the
// command line, where the program's argument parser removes them;
// `set "NAME=value"` sets a variable without trailing spaces or quotes in
// its value. cmd has no escape for % or " inside quotes, so values holding
// them cannot be written for it; the simulators print none (a test checks).
var cmdShell = shell{
	name: "cmd",
	setEnv: func(name, value string) string {
		return `set "` + name + "=" + value + `"`
	},
	quote: func(arg string) string {
		if arg != "" && isPlain(arg, `-_./:=,\@+`) {
			return arg
		}
		// A backslash before the closing quote would escape it for the
		// program's argument parser: double the trailing ones.
		trail := len(arg) - len(strings.TrimRight(arg, `\`))
		return `"` + arg + strings.Repeat(`\`, trail) + `"`
	},
}

// isPlain reports whether s holds only ASCII letters, digits and extra.
func isPlain(s, extra string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune(extra, r):
		default:
			return false
		}
	}
	return true
}
