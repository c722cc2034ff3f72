package azure

import (
	"context"
	"fmt"
	"strings"
)

// RegistrationStatus is what Azure holds for a stamp, for azs-courier
// verify: the registration, its lock, and how it compares with a token.
type RegistrationStatus struct {
	Registration RegistrationInfo `json:"registration"`
	// Locked is true when the registration carries the lock
	// RegistrationResourceLock at level CanNotDelete, as register leaves it.
	Locked    bool   `json:"locked"`
	LockName  string `json:"lockName,omitempty"`
	LockLevel string `json:"lockLevel,omitempty"`
	LockNotes string `json:"lockNotes,omitempty"`
	// LockUnknown says why the lock could not be read; Locked is then false.
	LockUnknown string `json:"lockUnknown,omitempty"`
	// TokenChecked is true when the request carried a token; TokenMatches
	// then says whether the registration was made from a token with the
	// same cloud ID, object ID and billing model, and Differences lists
	// those that differ ("billing model: token Capacity, registration
	// Development").
	TokenChecked bool     `json:"tokenChecked"`
	TokenMatches bool     `json:"tokenMatches"`
	Differences  []string `json:"differences,omitempty"`
}

// Status finds the registration req names (see [Registrar.Find]; by token
// or cloud ID the whole subscription is searched) and reads its lock. With a
// token it also compares the registration with the token (by name, a
// registration of another cloud ID is a *MismatchError, as in Find). Only GET
// requests are sent. A registration that is not there wraps ErrNotFound.
func (r *Registrar) Status(ctx context.Context, req FindRequest) (*RegistrationStatus, error) {
	var claims *TokenClaims
	if strings.TrimSpace(req.Token) != "" {
		c, err := ParseRegistrationToken(req.Token)
		if err != nil {
			return nil, err
		}
		claims = &c
	}
	info, err := r.Find(ctx, req)
	if err != nil {
		return nil, err
	}
	st := &RegistrationStatus{Registration: *info}
	rg := firstNonEmpty(info.ResourceGroup, req.ResourceGroup, DefaultResourceGroup)
	lock, err := r.locks.GetAtResourceLevel(ctx, rg, info.Name, LockName)
	switch {
	case err == nil:
		p := lock.Properties
		st.LockName = firstNonEmpty(deref(lock.Name), LockName)
		if p != nil {
			st.LockLevel, st.LockNotes = string(deref(p.Level)), deref(p.Notes)
		}
		st.Locked = strings.EqualFold(st.LockLevel, string(LockLevelCanNotDelete))
	case isNotFound(err):
	default:
		if ctx.Err() != nil {
			return nil, fmt.Errorf("azure: read lock %s: %w", LockName, ctx.Err())
		}
		st.LockUnknown = "could not read lock " + LockName + " (" + short(err) + "); it needs " + ActionLockRead
	}
	if claims != nil {
		st.TokenChecked = true
		for _, d := range []struct{ what, token, reg string }{
			{"cloud ID", claims.CloudID, info.CloudID},
			{"object ID", claims.ObjectID, info.ObjectID},
			{"billing model", claims.BillingModel, info.BillingModel},
		} {
			// A registration answer without the field says nothing about it.
			if d.reg != "" && !strings.EqualFold(d.token, d.reg) {
				st.Differences = append(st.Differences, d.what+": token "+firstNonEmpty(d.token, "(none)")+", registration "+d.reg)
			}
		}
		st.TokenMatches = len(st.Differences) == 0
	}
	return st, nil
}
