package pep

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/azs-courier/azs-courier/pep/psrp"
	"github.com/azs-courier/azs-courier/pep/wsman"
)

// Error is a failed PEP operation: what was tried, on which ERCS host, the
// cause (a [*psrp.ErrorRecord] with the PowerShell message and
// FullyQualifiedErrorId, a [*wsman.Fault], or a network error) and advice
// for the known causes.
type Error struct {
	Op     string // e.g. "New-RegistrationToken", "open PEP session"
	Host   string
	Err    error
	Advice string // what to do about it; empty when nothing specific is known
}

// Error returns "<op> on <host>: <cause>; <advice>" on one line.
func (e *Error) Error() string {
	msg := e.Op
	if e.Host != "" {
		msg += " on " + e.Host
	}
	msg += ": " + e.Err.Error()
	if e.Advice != "" {
		msg += "; " + e.Advice
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrUnauthorized is matched by errors for the PEP refusing the user name
// or password (HTTP 401 to the NTLM handshake).
var ErrUnauthorized = wsman.ErrUnauthorized

// ErrBusy is matched by errors for "another action is in progress": the PEP
// is running an action plan (update, secret rotation, log collection).
var ErrBusy = errors.New("pep: another action is in progress")

// ErrValidation is matched by errors for requests the module would refuse
// before contacting the PEP (billing model rules, version gates).
var ErrValidation = errors.New("pep: invalid request")

// ErrStopped is matched by errors for a PEP that stopped answering: the
// ERCS VM accepted the connection and then sent nothing back within the
// idle timeout (a stopped, paused or hung VM, or a network that drops the
// traffic). It is not retried.
var ErrStopped = errors.New("pep: the PEP stopped answering")

// ErrTranscripts is matched by errors from [Client.Close] and
// [Client.CloseWithTranscripts] when the session transcripts were not
// exported to the share; the session is closed all the same.
var ErrTranscripts = errors.New("pep: the transcripts were not exported")

// transcriptsError marks an error as ErrTranscripts.
type transcriptsError struct{ err error }

func (t transcriptsError) Error() string {
	return "the transcripts were not exported: " + t.err.Error()
}
func (t transcriptsError) Is(target error) bool { return target == ErrTranscripts }
func (t transcriptsError) Unwrap() error        { return t.err }

// busyError marks an error record as ErrBusy.
type busyError struct{ *psrp.ErrorRecord }

func (b busyError) Is(target error) bool { return target == ErrBusy }
func (b busyError) Unwrap() error        { return b.ErrorRecord }

// stoppedError marks a transport error as ErrStopped and says so first.
type stoppedError struct{ err error }

func (s stoppedError) Error() string        { return "the PEP stopped answering: " + s.err.Error() }
func (s stoppedError) Is(target error) bool { return target == ErrStopped }
func (s stoppedError) Unwrap() error        { return s.err }

// classify wraps err into an *Error with advice for the known failures.
func classify(op, host string, err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	e := &Error{Op: op, Host: host, Err: err}
	var rec *psrp.ErrorRecord
	var fault *wsman.Fault
	var se *psrp.StateError
	var ne net.Error
	switch {
	case errors.Is(err, wsman.ErrNoReply):
		e.Err = stoppedError{err}
		e.Advice = "the ERCS VM accepted the connection but sent nothing back; check that the VM is running and not paused (Hyper-V Manager or Failover Cluster Manager on the hardware lifecycle host), then run the command again, or give another ERCS address with --pep"
	case errors.Is(err, context.DeadlineExceeded):
		e.Advice = "the PEP did not finish within the time allowed for this operation; it may still be working (an action plan keeps running on the stamp): check the stamp, then run the command again, with a longer --timeout if the PEP is just slow"
	case errors.Is(err, context.Canceled):
		e.Advice = "the operation was cancelled; an action plan the PEP had started may still be running on the stamp"
	case isCertificateError(err):
		e.Advice = "the ERCS VM's WinRM HTTPS certificate is not trusted or does not name this address; pass the CA that issued it with --ca-file, and connect by the name or IP address the certificate holds"
	case errors.Is(err, wsman.ErrResponseTooLarge):
		e.Advice = "the server on that address does not answer like a WinRM listener; check the address and port of the ERCS VM"
	case errors.As(err, &rec) && isKeyRefused(rec):
		e.Advice = "the stamp refused this activation key: it is not valid or was made for another stamp; get the key for this stamp's registration (activation-key) and check its cloud ID with inspect"
	case errors.As(err, &rec) && rec.FullyQualifiedErrorID == "ScriptsNotAllowed":
		e.Advice = "the PEP runs in no-language mode and accepts only plain cmdlets with named parameters; this is a bug in the request, please report it"
	case errors.As(err, &rec) && isBusy(rec):
		e.Err = busyError{rec}
		e.Advice = "another action plan (update, secret rotation, log collection) is running on the stamp; wait for it to finish (Get-ActionStatus on the PEP shows it) and try again later"
	case errors.As(err, &rec) && strings.HasPrefix(rec.FullyQualifiedErrorID, "CommandNotFoundException"):
		e.Advice = "this PEP does not offer that command; check the stamp version and that you connected to the PrivilegedEndpoint configuration"
	case errors.Is(err, wsman.ErrUnauthorized):
		e.Advice = "check the user (DOMAIN\\CloudAdmin, the stamp's domain, not an Azure account) and its password; repeated failures may lock the account"
	case errors.Is(err, wsman.ErrSeal):
		e.Advice = "the connection could not be encrypted, so nothing was sent; check that the host is a WinRM endpoint that allows NTLM, or use --https"
	case errors.As(err, &se):
		e.Advice = "the PEP session could not start; try again, or another ERCS address"
	case errors.As(err, &fault) && fault.WSManCode == wsman.CodeInvalidSelectors:
		e.Advice = "the PEP session was closed on the server (idle timeout or restart); run the command again"
	case errors.As(err, &fault):
		e.Advice = "the WinRM service on the ERCS VM reported an error; try again or use another ERCS address"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		e.Advice = "the ERCS VM closed the connection in the middle of the operation; run the command again (for activation, check the stamp's state first)"
	case errors.As(err, &ne) && ne.Timeout(), isUnreachable(err):
		e.Advice = "the ERCS VM did not answer on WinRM; check the address, that TCP 5985 (5986 with --https) is reachable from this machine, or give another ERCS address with --pep"
	}
	return e
}

func isBusy(rec *psrp.ErrorRecord) bool {
	msg := strings.ToLower(rec.Message + " " + rec.FullyQualifiedErrorID)
	return strings.Contains(msg, "another action is in progress")
}

// isKeyRefused reports whether New-AzureStackActivation refused the key
// itself (malformed, or issued for another cloud ID). The PEP throws such
// errors as plain messages (the FullyQualifiedErrorId is the message), so
// the message is all there is to go on.
func isKeyRefused(rec *psrp.ErrorRecord) bool {
	msg := strings.ToLower(rec.Message)
	if !strings.Contains(msg, "activation key") {
		return false
	}
	for _, s := range []string{"not valid", "invalid", "issued for", "cloud id", "does not match", "expired"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// isCertificateError reports a TLS failure that retrying cannot mend: the
// server's certificate does not verify, or the server does not speak TLS
// as expected.
func isCertificateError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	var ae tls.AlertError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) ||
		errors.As(err, &rh) || errors.As(err, &ae)
}

func isUnreachable(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// retryable reports whether the module's retry loop should try again:
// only what can change by waiting (transport drops, server faults, a PEP
// function failing for its own reasons). Not retried: credentials (401),
// a certificate that fails verification, sealing failures, validation, a
// PEP that stopped answering, an oversized reply, the caller's deadline,
// and error records that say the request itself is wrong (ScriptsNotAllowed,
// CommandNotFound, parameter binding, a refused activation key). A busy
// stamp is not retried either: never loop quickly on "another action is
// in progress" (users-peers.md §2.B #12).
func retryable(err error) bool {
	var rec *psrp.ErrorRecord
	switch {
	case errors.Is(err, wsman.ErrUnauthorized), errors.Is(err, wsman.ErrSeal), errors.Is(err, ErrValidation),
		errors.Is(err, ErrBusy), errors.Is(err, wsman.ErrNoReply), errors.Is(err, wsman.ErrResponseTooLarge),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), isCertificateError(err):
		return false
	case errors.As(err, &rec):
		return !isBusy(rec) && rec.FullyQualifiedErrorID != "ScriptsNotAllowed" &&
			!strings.HasPrefix(rec.FullyQualifiedErrorID, "CommandNotFoundException") &&
			!strings.Contains(rec.FullyQualifiedErrorID, "Parameter") && !isKeyRefused(rec)
	}
	return true
}

func validationf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrValidation}, args...)...)
}
