package app

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/pep"
)

// ErrIntegrity is matched (errors.Is) by every failed integrity or identity
// check: a manifest hash, a cloud ID, the kind of an artefact, the custody
// ledger's chain. The CLI exits with status 3 for it.
var ErrIntegrity = courier.ErrIntegrity

// OneLine folds a message onto one line: CR/LF runs (PowerShell's error
// texts carry them) become " — ".
func OneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' })
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	return strings.Join(fields, " — ")
}

// Causes returns the chain of errors behind err, outermost first, in words:
// each cause is its own message on one line, with the text of the cause
// below it, which the message repeats, shown as "…". It is empty when err
// wraps nothing.
func Causes(err error) []string {
	var msgs []string
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		msgs = append(msgs, OneLine(e.Error()))
	}
	out := make([]string, 0, len(msgs))
	for i, m := range msgs {
		if i+1 < len(msgs) && msgs[i+1] != "" && strings.Contains(m, msgs[i+1]) {
			m = strings.Replace(m, msgs[i+1], "…", 1)
		}
		if m == "…" || m == "" || (len(out) > 0 && out[len(out)-1] == m) {
			continue // a wrapper that adds no words of its own
		}
		out = append(out, m)
	}
	return out
}

// ErrorView is an error as the GUI shows it: the one-line reason, the fix,
// and the chain of causes for the expandable details.
type ErrorView struct {
	Reason    string
	Fix       string
	Details   string
	Integrity bool // an integrity or identity check failed (exit status 3 in the CLI)
}

// Sentence returns the reason and the fix as one line for a status label.
func (v ErrorView) Sentence() string {
	s := capitalFirst(v.Reason)
	if v.Fix != "" {
		s += ". " + capitalFirst(v.Fix)
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// capitalFirst returns s with its first letter in upper case.
func capitalFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// plainReason names, in words, causes whose messages are a chain of
// protocol steps ("open PEP session on …: open runspace pool: Create: HTTP
// 401 Unauthorized"); "" for the others.
func plainReason(err error) string {
	var pe *pep.Error
	switch {
	case errors.Is(err, ErrPEPCredentials) && errors.As(err, &pe) && pe.Host != "":
		return "The stamp's privileged endpoint at " + pe.Host + " refused the user name or password"
	case errors.Is(err, ErrPEPCredentials):
		return "The stamp's privileged endpoint refused the user name or password"
	}
	return ""
}

// packageTags are the prefixes Go packages put on their errors, which
// say nothing to the person reading the reason (the details keep them).
var packageTags = strings.NewReplacer("psrp: ", "", "wsman: ", "", "courier: ", "", "qr: ", "", "azure: ", "", "pep: ", "", "app: ", "")

// Explain splits err into what the GUI shows. Messages follow the
// "problem; fix" form of the CLI: the reason is the part before the first
// "; " (without the packages' tags), the fix all that follows it.
func Explain(err error) ErrorView {
	if err == nil {
		return ErrorView{}
	}
	msg := OneLine(err.Error())
	v := ErrorView{Reason: msg, Integrity: errors.Is(err, ErrIntegrity)}
	if i := strings.Index(msg, "; "); i > 0 {
		v.Reason, v.Fix = msg[:i], msg[i+2:]
	}
	v.Reason = packageTags.Replace(v.Reason)
	if r := plainReason(err); r != "" {
		v.Reason = r // the transport's words stay in the details
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", msg)
	for _, c := range Causes(err) {
		fmt.Fprintf(&b, "because: %s\n", c)
	}
	v.Details = strings.TrimSpace(b.String())
	return v
}
