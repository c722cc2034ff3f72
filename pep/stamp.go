package pep

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/azs-courier/azs-courier/pep/psrp"
)

// StampInformation is what Get-AzureStackStampInformation reports, with the
// fields the registration module reads.
type StampInformation struct {
	CloudID              string
	DeploymentID         string
	StampVersion         string
	Version              Version // StampVersion parsed
	NumberOfNodes        int
	AADTenantID          string
	RegionName           string
	DomainFQDN           string
	DomainNetBIOSName    string
	ExternalDomainFQDN   string
	AdminResourceManager string // AdminExternalEndpoints.AdminResourceManager
	EmergencyConsoleIPs  []string
}

// StampInformation runs Get-AzureStackStampInformation and parses the
// result, cached for the session. It is not retried: the module's
// Confirm-StampVersion runs it once.
func (c *Client) StampInformation(ctx context.Context) (*StampInformation, error) {
	if c.stamp != nil {
		return c.stamp, nil
	}
	const cmd = "Get-AzureStackStampInformation"
	out, err := c.invoke(ctx, "stamp", cmd, psrp.Parameter{Name: "WarningAction", Value: psrp.String("SilentlyContinue")})
	if err != nil {
		return nil, err
	}
	if len(out) != 1 {
		return nil, &Error{Op: cmd, Host: c.host, Err: fmt.Errorf("got %d objects, want 1", len(out))}
	}
	s, err := parseStamp(out[0])
	if err != nil {
		return nil, &Error{Op: cmd, Host: c.host, Err: err}
	}
	c.stamp = s
	c.event("stamp", fmt.Sprintf("Running registration actions on build %s. Cloud Id: %s, Deployment Id: %s", s.StampVersion, s.CloudID, s.DeploymentID), -1, "info")
	return s, nil
}

func parseStamp(v psrp.Value) (*StampInformation, error) {
	s := &StampInformation{
		CloudID:            v.MemberStr("CloudID"),
		DeploymentID:       v.MemberStr("DeploymentID"),
		StampVersion:       v.MemberStr("StampVersion"),
		AADTenantID:        v.MemberStr("AADTenantID"),
		RegionName:         v.MemberStr("RegionName"),
		DomainFQDN:         v.MemberStr("DomainFQDN"),
		DomainNetBIOSName:  v.MemberStr("DomainNetBIOSName"),
		ExternalDomainFQDN: v.MemberStr("ExternalDomainFQDN"),
	}
	if s.CloudID == "" {
		return nil, errors.New("the stamp information has no CloudID")
	}
	ver, err := ParseVersion(s.StampVersion)
	if err != nil {
		return nil, fmt.Errorf("the stamp information has StampVersion %q: %w", s.StampVersion, err)
	}
	s.Version = ver
	if n, ok := v.Member("NumberOfNodes"); ok {
		i, err := strconv.Atoi(n.Str())
		if err != nil {
			return nil, fmt.Errorf("the stamp information has NumberOfNodes %q", n.Str())
		}
		s.NumberOfNodes = i
	}
	if a, ok := v.Member("AdminExternalEndpoints"); ok {
		s.AdminResourceManager = a.MemberStr("AdminResourceManager")
	}
	if e, ok := v.Member("EmergencyConsoleIPAddresses"); ok && e.Obj != nil {
		for _, ip := range e.Obj.List {
			s.EmergencyConsoleIPs = append(s.EmergencyConsoleIPs, ip.Str())
		}
	}
	return s, nil
}
