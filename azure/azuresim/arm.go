package azuresim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// subState is one subscription's resources.
type subState struct {
	sub       Subscription
	providers map[string]*provider // lower-case namespace
	groups    map[string]*group    // lower-case name
}

type provider struct {
	namespace string
	state     string
	pending   int // reads left before Registered
}

type group struct {
	name, location string
	regs           map[string]*registration // lower-case name
}

type registration struct {
	name, etag      string
	token           string
	cloudID         string
	objectID        string
	billingModel    string
	hardwareInfo    json.RawMessage
	usageReporting  bool
	syndication     bool
	lock            *lock
	lockName        string
	createdResource time.Time
}

type lock struct {
	name, level, notes string
}

func newSubState(sub Subscription) *subState {
	return &subState{sub: sub, providers: map[string]*provider{}, groups: map[string]*group{}}
}

// API versions the simulated providers accept, per resource kind.
var apiVersions = map[string][]string{
	"subscriptions":               {"2016-06-01", "2020-01-01", "2021-01-01", "2022-12-01"},
	"providers":                   {"2019-05-01", "2021-04-01", "2022-09-01"},
	"resourcegroups":              {"2019-05-01", "2021-04-01", "2022-09-01"},
	"registrations":               {"2017-06-01", "2020-06-01-preview", "2022-06-01"},
	"registrationsBySubscription": {"2020-06-01-preview", "2022-06-01"},
	"locks":                       {"2016-09-01", "2020-05-01"},
	// Microsoft.Authorization permissions and role definitions.
	"authorization": {"2015-07-01", "2018-01-01-preview", "2022-04-01"},
}

func (s *Server) serveARM(w http.ResponseWriter, r *http.Request, body []byte) {
	f := s.currentFaults()
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer ") {
		w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="`+s.url+`/`+s.opts.TenantID+`", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`)
		armError(w, http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
		return
	}
	claims, err := s.verify(strings.TrimPrefix(auth, "Bearer "))
	if err != nil {
		armError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid: "+err.Error()+".")
		return
	}
	now := s.opts.Now()
	if f.ExpiredToken || now.Unix() >= claims.Exp {
		exp := time.Unix(claims.Exp, 0).UTC()
		if f.ExpiredToken {
			exp = now.Add(-time.Minute).UTC()
		}
		armError(w, http.StatusUnauthorized, "ExpiredAuthenticationToken",
			fmt.Sprintf("The access token expiry UTC time '%s' is earlier than current UTC time '%s'.",
				exp.Format("1/2/2006 3:04:05 PM"), now.UTC().Format("1/2/2006 3:04:05 PM")))
		return
	}
	if !strings.EqualFold(claims.Tid, s.opts.TenantID) {
		armError(w, http.StatusUnauthorized, "InvalidAuthenticationTokenTenant", "The access token is from the wrong issuer.")
		return
	}

	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	low := make([]string, len(seg))
	for i, x := range seg {
		low[i] = strings.ToLower(x)
	}
	api := r.URL.Query().Get("api-version")
	if api == "" {
		armError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	if len(low) == 1 && low[0] == "subscriptions" && r.Method == http.MethodGet {
		if !s.checkAPI(w, "subscriptions", api) {
			return
		}
		s.listSubscriptions(w)
		return
	}
	if len(low) < 2 || low[0] != "subscriptions" {
		armError(w, http.StatusNotFound, "InvalidResourceType", "The resource type could not be found: "+r.URL.Path)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, ok := s.subs[low[1]]
	if !ok {
		armError(w, http.StatusNotFound, "SubscriptionNotFound", "The subscription '"+seg[1]+"' could not be found.")
		return
	}
	rest, restLow := seg[2:], low[2:]
	if !s.authorize(w, r, claims, sub.sub.ID, rest) {
		return
	}
	if st := strings.ToLower(sub.sub.State); (st == "disabled" || st == "deleted") && r.Method != http.MethodGet {
		armError(w, http.StatusConflict, "ReadOnlyDisabledSubscription",
			"The subscription '"+sub.sub.ID+"' is disabled and therefore marked as read only. You cannot perform any write actions on this subscription until it is re-enabled.")
		return
	}
	switch {
	// /subscriptions/{sub}
	case len(restLow) == 0 && r.Method == http.MethodGet:
		if s.checkAPI(w, "subscriptions", api) {
			writeJSON(w, http.StatusOK, s.subscriptionJSON(sub.sub))
		}
	// /subscriptions/{sub}/locations
	case len(restLow) == 1 && restLow[0] == "locations" && r.Method == http.MethodGet:
		if s.checkAPI(w, "subscriptions", api) {
			s.listLocations(w, sub)
		}
	// /subscriptions/{sub}/providers/Microsoft.Authorization/permissions (not in the spec, served by ARM)
	case len(restLow) == 3 && restLow[0] == "providers" && restLow[1] == "microsoft.authorization" && restLow[2] == "permissions" && r.Method == http.MethodGet:
		if s.checkAPI(w, "authorization", api) {
			s.listPermissions(w, sub, "")
		}
	// /subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Authorization/permissions
	case len(restLow) == 5 && restLow[0] == "resourcegroups" && restLow[2] == "providers" && restLow[3] == "microsoft.authorization" && restLow[4] == "permissions" && r.Method == http.MethodGet:
		if s.checkAPI(w, "authorization", api) {
			s.listPermissions(w, sub, rest[1])
		}
	// /subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions[/{id}]
	case (len(restLow) == 3 || len(restLow) == 4) && restLow[0] == "providers" && restLow[1] == "microsoft.authorization" && restLow[2] == "roledefinitions":
		if s.checkAPI(w, "authorization", api) {
			id := ""
			if len(rest) == 4 {
				id = rest[3]
			}
			s.roleDefinitions(w, r, sub, id, body)
		}
	// /subscriptions/{sub}/providers/{ns}[/register]
	case len(restLow) == 2 && restLow[0] == "providers" && r.Method == http.MethodGet && restLow[1] != "":
		if s.checkAPI(w, "providers", api) {
			s.getProvider(w, sub, rest[1])
		}
	case len(restLow) == 3 && restLow[0] == "providers" && restLow[2] == "register" && r.Method == http.MethodPost:
		if s.checkAPI(w, "providers", api) {
			s.registerProvider(w, sub, rest[1])
		}
	// /subscriptions/{sub}/providers/Microsoft.AzureStack/registrations
	case len(restLow) == 3 && restLow[0] == "providers" && restLow[1] == "microsoft.azurestack" && restLow[2] == "registrations" && r.Method == http.MethodGet:
		if s.checkAPI(w, "registrationsBySubscription", api) && s.checkProvider(w, sub) {
			s.listRegistrations(w, sub, nil)
		}
	// /subscriptions/{sub}/resourcegroups/{rg}
	case len(restLow) == 2 && restLow[0] == "resourcegroups":
		if s.checkAPI(w, "resourcegroups", api) {
			s.resourceGroup(w, r, sub, rest[1], body)
		}
	// /subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.AzureStack/registrations[/{name}[/getactivationkey | /providers/Microsoft.Authorization/locks/{lock}]]
	case len(restLow) >= 5 && restLow[0] == "resourcegroups" && restLow[2] == "providers" && restLow[3] == "microsoft.azurestack" && restLow[4] == "registrations":
		s.registrations(w, r, sub, rest, restLow, api, body)
	default:
		armError(w, http.StatusNotFound, "InvalidResourceType", "The resource type could not be found in the namespace for api version '"+api+"': "+r.URL.Path)
	}
}

func (s *Server) checkAPI(w http.ResponseWriter, kind, api string) bool {
	for _, v := range apiVersions[kind] {
		if v == api {
			return true
		}
	}
	armError(w, http.StatusBadRequest, "NoRegisteredProviderFound",
		fmt.Sprintf("No registered resource provider found for api version '%s'. The supported api-versions are '%s'.", api, strings.Join(apiVersions[kind], ", ")))
	return false
}

func (s *Server) checkProvider(w http.ResponseWriter, sub *subState) bool {
	p := sub.providers["microsoft.azurestack"]
	if p == nil || p.state != "Registered" {
		armError(w, http.StatusConflict, "MissingSubscriptionRegistration",
			"The subscription is not registered to use namespace 'Microsoft.AzureStack'. See https://aka.ms/rps-not-found for how to register subscriptions.")
		return false
	}
	return true
}

// subscriptionJSON is a Subscription of the 2022-12-01 spec.
func (s *Server) subscriptionJSON(sub Subscription) map[string]any {
	state := sub.State
	if state == "" {
		state = "Enabled"
	}
	return map[string]any{
		"id": "/subscriptions/" + sub.ID, "authorizationSource": "RoleBased", "subscriptionId": sub.ID,
		"tenantId": s.opts.TenantID, "displayName": sub.Name, "state": state,
		"subscriptionPolicies": map[string]any{"locationPlacementId": "Public_2014-09-01", "quotaId": "EnterpriseAgreement_2014-09-01", "spendingLimit": "Off"},
	}
}

func (s *Server) listSubscriptions(w http.ResponseWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var value []any
	for _, sub := range s.opts.Subscriptions {
		value = append(value, s.subscriptionJSON(sub))
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": map[string]any{"type": "Total", "value": len(value)}, "value": value})
}

// displayNames of the regions the simulator knows; others are shown by name.
var displayNames = map[string][2]string{
	"westcentralus": {"West Central US", "US"}, "westus": {"West US", "US"}, "eastus": {"East US", "US"},
	"westeurope": {"West Europe", "Europe"}, "northeurope": {"North Europe", "Europe"},
	"usgovvirginia": {"USGov Virginia", "US"}, "chinaeast": {"China East", "Asia Pacific"},
}

// listLocations answers Subscriptions_ListLocations (2022-12-01):
// {"value":[Location…]}.
func (s *Server) listLocations(w http.ResponseWriter, sub *subState) {
	value := []any{}
	for _, name := range s.opts.Locations {
		name = strings.ToLower(name)
		dn, geo := name, "Other"
		if d, ok := displayNames[name]; ok {
			dn, geo = d[0], d[1]
		}
		value = append(value, map[string]any{
			"id": "/subscriptions/" + sub.sub.ID + "/locations/" + name, "name": name, "type": "Region",
			"displayName": dn, "regionalDisplayName": "(" + geo + ") " + dn,
			"metadata": map[string]any{"regionType": "Physical", "regionCategory": "Recommended", "geographyGroup": geo},
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": value})
}

// locationName returns the region name of loc ("westus" for "West US"), and
// whether the subscription offers it.
func (s *Server) locationName(loc string) (string, bool) {
	want := strings.ToLower(strings.ReplaceAll(loc, " ", ""))
	for _, name := range s.opts.Locations {
		n := strings.ToLower(name)
		dn := n
		if d, ok := displayNames[n]; ok {
			dn = strings.ToLower(strings.ReplaceAll(d[0], " ", ""))
		}
		if want == n || want == dn {
			return n, true
		}
	}
	return want, false
}

func providerJSON(sub *subState, p *provider) map[string]any {
	return map[string]any{
		"id":                 "/subscriptions/" + sub.sub.ID + "/providers/" + p.namespace,
		"namespace":          p.namespace,
		"registrationState":  p.state,
		"registrationPolicy": "RegistrationRequired",
		"resourceTypes": []any{
			map[string]any{"resourceType": "registrations", "locations": []string{"global"}, "apiVersions": apiVersions["registrations"]},
		},
	}
}

func (s *Server) providerOf(sub *subState, ns string) *provider {
	p := sub.providers[strings.ToLower(ns)]
	if p == nil {
		p = &provider{namespace: ns, state: "NotRegistered"}
		if strings.EqualFold(ns, "Microsoft.AzureStack") {
			p.namespace = "Microsoft.AzureStack"
		}
		sub.providers[strings.ToLower(ns)] = p
	}
	return p
}

func (s *Server) getProvider(w http.ResponseWriter, sub *subState, ns string) {
	p := s.providerOf(sub, ns)
	if p.state == "Registering" {
		p.pending--
		if p.pending < 0 {
			p.state = "Registered"
		}
	}
	writeJSON(w, http.StatusOK, providerJSON(sub, p))
}

func (s *Server) registerProvider(w http.ResponseWriter, sub *subState, ns string) {
	p := s.providerOf(sub, ns)
	if p.state != "Registered" {
		if s.opts.ProviderRegisteringPolls > 0 {
			p.state, p.pending = "Registering", s.opts.ProviderRegisteringPolls
		} else {
			p.state = "Registered"
		}
	}
	writeJSON(w, http.StatusOK, providerJSON(sub, p))
}

func groupJSON(sub *subState, g *group) map[string]any {
	return map[string]any{
		"id":         "/subscriptions/" + sub.sub.ID + "/resourceGroups/" + g.name,
		"name":       g.name,
		"type":       "Microsoft.Resources/resourceGroups",
		"location":   g.location,
		"properties": map[string]any{"provisioningState": "Succeeded"},
	}
}

func (s *Server) resourceGroup(w http.ResponseWriter, r *http.Request, sub *subState, name string, body []byte) {
	g := sub.groups[strings.ToLower(name)]
	switch r.Method {
	case http.MethodGet:
		if g == nil {
			armError(w, http.StatusNotFound, "ResourceGroupNotFound", "Resource group '"+name+"' could not be found.")
			return
		}
		writeJSON(w, http.StatusOK, groupJSON(sub, g))
	case http.MethodPut:
		var req struct {
			Location   string            `json:"location"`
			Tags       map[string]string `json:"tags"`
			Properties json.RawMessage   `json:"properties"`
			ManagedBy  string            `json:"managedBy"`
		}
		if err := strictJSON(body, &req); err != nil {
			armError(w, http.StatusBadRequest, "InvalidRequestContent", "The request content was invalid and could not be deserialized: "+err.Error())
			return
		}
		if req.Location == "" {
			armError(w, http.StatusBadRequest, "LocationRequired", "The location property is required for this definition.")
			return
		}
		loc, ok := s.locationName(req.Location)
		if !ok {
			armError(w, http.StatusBadRequest, "LocationNotAvailableForResourceGroup",
				fmt.Sprintf("The provided location '%s' is not available for resource group. List of available regions is '%s'.", req.Location, strings.Join(s.opts.Locations, ",")))
			return
		}
		if g != nil {
			if !strings.EqualFold(g.location, loc) {
				armError(w, http.StatusConflict, "InvalidResourceGroupLocation",
					fmt.Sprintf("Invalid resource group location '%s'. The Resource group already exists in location '%s'.", req.Location, g.location))
				return
			}
			writeJSON(w, http.StatusOK, groupJSON(sub, g))
			return
		}
		g = &group{name: name, location: loc, regs: map[string]*registration{}}
		sub.groups[strings.ToLower(name)] = g
		writeJSON(w, http.StatusCreated, groupJSON(sub, g))
	default:
		armError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The method is not allowed on resource groups in azuresim.")
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// strictJSON decodes a JSON object, rejecting unknown fields and trailing data.
func strictJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errNotJSON
	}
	return nil
}

func regID(sub *subState, g *group, reg *registration) string {
	return "/subscriptions/" + sub.sub.ID + "/resourceGroups/" + g.name + "/providers/Microsoft.AzureStack/registrations/" + reg.name
}

// registrationJSON is the Registration of the spec (Put.json's answer).
func registrationJSON(sub *subState, g *group, reg *registration) map[string]any {
	return map[string]any{
		"id":       regID(sub, g, reg),
		"name":     reg.name,
		"type":     "Microsoft.AzureStack/registrations",
		"location": "global",
		"etag":     `"` + reg.etag + `"`,
		"properties": map[string]any{
			"cloudId":      reg.cloudID,
			"objectId":     reg.objectID,
			"billingModel": reg.billingModel,
		},
	}
}

func (s *Server) listRegistrations(w http.ResponseWriter, sub *subState, only *group) {
	var value []any
	var names []string
	byName := map[string]any{}
	for _, g := range sub.groups {
		if only != nil && g != only {
			continue
		}
		for _, reg := range g.regs {
			key := strings.ToLower(g.name + "/" + reg.name)
			names = append(names, key)
			byName[key] = registrationJSON(sub, g, reg)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		value = append(value, byName[n])
	}
	if value == nil {
		value = []any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": value})
}

// tokenFields are the fields of a registration token the simulator uses.
type tokenFields struct {
	CloudID                       string          `json:"cloudId"`
	ObjectID                      string          `json:"objectId"`
	BillingModel                  string          `json:"billingModel"`
	HardwareInfo                  json.RawMessage `json:"hardwareInfo"`
	UsageReportingEnabled         bool            `json:"usageReportingEnabled"`
	MarketplaceSyndicationEnabled bool            `json:"marketplaceSyndicationEnabled"`
}

func decodeToken(token string) (tokenFields, error) {
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(token, "="))
	}
	if err != nil {
		return tokenFields{}, err
	}
	var t tokenFields
	if err := json.Unmarshal(raw, &t); err != nil {
		return tokenFields{}, err
	}
	if t.CloudID == "" {
		return tokenFields{}, errNotJSON
	}
	return t, nil
}

func (s *Server) registrations(w http.ResponseWriter, r *http.Request, sub *subState, rest, restLow []string, api string, body []byte) {
	kind := "registrations"
	if len(restLow) > 7 {
		kind = "locks"
	}
	if !s.checkAPI(w, kind, api) {
		return
	}
	if !s.checkProvider(w, sub) {
		return
	}
	rgName := rest[1]
	g := sub.groups[strings.ToLower(rgName)]
	if g == nil {
		armError(w, http.StatusNotFound, "ResourceGroupNotFound", "Resource group '"+rgName+"' could not be found.")
		return
	}
	if len(restLow) == 5 {
		if r.Method != http.MethodGet {
			armError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Only GET lists registrations.")
			return
		}
		s.listRegistrations(w, sub, g)
		return
	}
	name := rest[5]
	reg := g.regs[strings.ToLower(name)]
	notFound := func() {
		armError(w, http.StatusNotFound, "ResourceNotFound",
			"The Resource 'Microsoft.AzureStack/registrations/"+name+"' under resource group '"+g.name+"' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix")
	}
	switch {
	case len(restLow) == 6:
		switch r.Method {
		case http.MethodGet:
			if reg == nil {
				notFound()
				return
			}
			writeJSON(w, http.StatusOK, registrationJSON(sub, g, reg))
		case http.MethodPut:
			s.putRegistration(w, sub, g, name, body)
		case http.MethodDelete:
			if reg == nil {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			if reg.lock != nil {
				scope := regID(sub, g, reg)
				armError(w, http.StatusConflict, "ScopeLocked",
					fmt.Sprintf("The scope '%s' cannot perform delete operation because following scope(s) are locked: '%s'. Please remove the lock and try again.", scope, scope))
				return
			}
			delete(g.regs, strings.ToLower(name))
			w.WriteHeader(http.StatusOK)
		default:
			armError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The method is not allowed on registrations in azuresim.")
		}
	case len(restLow) == 7 && restLow[6] == "getactivationkey" && r.Method == http.MethodPost:
		if len(bytes.TrimSpace(body)) > 0 {
			armError(w, http.StatusBadRequest, "InvalidRequestContent", "getactivationkey takes no request body.")
			return
		}
		if reg == nil {
			notFound()
			return
		}
		key, err := s.activationKey(sub, g, reg)
		if err != nil {
			armError(w, http.StatusInternalServerError, "InternalServerError", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"activationKey": key})
	case len(restLow) == 10 && restLow[6] == "providers" && restLow[7] == "microsoft.authorization" && restLow[8] == "locks":
		if reg == nil {
			notFound()
			return
		}
		s.lock(w, r, sub, g, reg, rest[9], body)
	default:
		armError(w, http.StatusNotFound, "InvalidResourceType", "The resource type could not be found: "+r.URL.Path)
	}
}

func (s *Server) putRegistration(w http.ResponseWriter, sub *subState, g *group, name string, body []byte) {
	var req struct {
		Location   *string `json:"location"`
		Properties *struct {
			RegistrationToken *string `json:"registrationToken"`
		} `json:"properties"`
	}
	if err := strictJSON(body, &req); err != nil {
		armError(w, http.StatusBadRequest, "InvalidRequestContent",
			"The request content was invalid and could not be deserialized: "+err.Error()+". A registration body is {\"location\":\"global\",\"properties\":{\"registrationToken\":\"...\"}}.")
		return
	}
	if req.Location == nil {
		armError(w, http.StatusBadRequest, "LocationRequired", "The location property is required for this definition.")
		return
	}
	if !strings.EqualFold(*req.Location, "global") {
		armError(w, http.StatusBadRequest, "LocationNotAvailableForResourceType",
			"The provided location '"+*req.Location+"' is not available for resource type 'Microsoft.AzureStack/registrations'. List of available regions for the resource type is 'global'.")
		return
	}
	if req.Properties == nil || req.Properties.RegistrationToken == nil || *req.Properties.RegistrationToken == "" {
		armError(w, http.StatusBadRequest, "InvalidRegistrationToken", "The registration token is required.")
		return
	}
	token := *req.Properties.RegistrationToken
	tf, err := decodeToken(token)
	if err != nil {
		armError(w, http.StatusBadRequest, "InvalidRegistrationToken", "The registration token is malformed.")
		return
	}
	if s.currentFaultsLocked().CloudIDTaken {
		armError(w, http.StatusConflict, "CloudIdAlreadyRegistered",
			"Cloud identifier ["+tf.CloudID+"] is already registered. Reusing cloud identifiers is not allowed.")
		return
	}
	existing := g.regs[strings.ToLower(name)]
	if existing != nil && !strings.EqualFold(existing.cloudID, tf.CloudID) {
		armError(w, http.StatusConflict, "CloudIdUpdateNotAllowed",
			"The registration '"+existing.name+"' is already associated with another Cloud identifier")
		return
	}
	for _, og := range sub.groups {
		for _, other := range og.regs {
			if other != existing && strings.EqualFold(other.cloudID, tf.CloudID) {
				armError(w, http.StatusConflict, "CloudIdAlreadyRegistered",
					"Cloud identifier ["+tf.CloudID+"] is already registered. Reusing cloud identifiers is not allowed.")
				return
			}
		}
	}
	status := http.StatusOK
	if existing == nil {
		existing = &registration{name: name, createdResource: s.opts.Now()}
		g.regs[strings.ToLower(name)] = existing
		status = http.StatusCreated
	}
	if existing.token != token {
		existing.etag = fmt.Sprintf("%s-0000-0000-0000-%s", randomHex(4), randomHex(6))
	}
	existing.token, existing.cloudID, existing.objectID, existing.billingModel = token, tf.CloudID, tf.ObjectID, tf.BillingModel
	existing.hardwareInfo, existing.usageReporting, existing.syndication = tf.HardwareInfo, tf.UsageReportingEnabled, tf.MarketplaceSyndicationEnabled
	writeJSON(w, status, registrationJSON(sub, g, existing))
}

// currentFaultsLocked reads the faults while s.mu is held.
func (s *Server) currentFaultsLocked() Faults { return s.faults }

func lockJSON(sub *subState, g *group, reg *registration) map[string]any {
	return map[string]any{
		"id":   regID(sub, g, reg) + "/providers/Microsoft.Authorization/locks/" + reg.lock.name,
		"name": reg.lock.name,
		"type": "Microsoft.Authorization/locks",
		"properties": map[string]any{
			"level": reg.lock.level,
			"notes": reg.lock.notes,
		},
	}
}

func (s *Server) lock(w http.ResponseWriter, r *http.Request, sub *subState, g *group, reg *registration, name string, body []byte) {
	has := reg.lock != nil && strings.EqualFold(reg.lock.name, name)
	switch r.Method {
	case http.MethodGet:
		if !has {
			armError(w, http.StatusNotFound, "LockNotFound", "The lock '"+name+"' could not be found.")
			return
		}
		writeJSON(w, http.StatusOK, lockJSON(sub, g, reg))
	case http.MethodPut:
		if strings.ContainsAny(name, `%&:\?/`) || len(name) > 260 {
			armError(w, http.StatusBadRequest, "LockNameInvalid", "The lock name '"+name+"' is invalid.")
			return
		}
		var req struct {
			Properties *struct {
				Level  string            `json:"level"`
				Notes  string            `json:"notes"`
				Owners []json.RawMessage `json:"owners"`
			} `json:"properties"`
		}
		if err := strictJSON(body, &req); err != nil || req.Properties == nil {
			armError(w, http.StatusBadRequest, "InvalidRequestContent", "The request content was invalid: a lock is {\"properties\":{\"level\":\"CanNotDelete\",\"notes\":\"...\"}}.")
			return
		}
		if !contains([]string{"CanNotDelete", "ReadOnly", "NotSpecified"}, req.Properties.Level) {
			armError(w, http.StatusBadRequest, "LockLevelInvalid", "The lock level '"+req.Properties.Level+"' is invalid; use CanNotDelete or ReadOnly.")
			return
		}
		if reg.lock != nil && !has {
			// One lock per registration is all the simulator keeps.
			armError(w, http.StatusConflict, "LockConflict", "The registration already has the lock '"+reg.lock.name+"'.")
			return
		}
		status := http.StatusOK
		if !has {
			status = http.StatusCreated
		}
		reg.lock = &lock{name: name, level: req.Properties.Level, notes: req.Properties.Notes}
		writeJSON(w, status, lockJSON(sub, g, reg))
	case http.MethodDelete:
		if !has {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		reg.lock = nil
		w.WriteHeader(http.StatusOK)
	default:
		armError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The method is not allowed on locks.")
	}
}

// keyPayload is an activation key's payload, in the order of the spec example.
type keyPayload struct {
	SubscriptionID                     string          `json:"subscriptionId"`
	ResourceGroupName                  string          `json:"resourceGroupName"`
	RegistrationName                   string          `json:"registrationName"`
	CertPinningRootSubjects            []string        `json:"certPinningRootSubjects"`
	CertPinningIntermediateThumbprints []string        `json:"certPinningIntermediateThumbprints"`
	UsageEndpoint                      string          `json:"usageEndpoint"`
	MarketplaceEndpoint                string          `json:"marketplaceEndpoint"`
	UsageResourceURI                   string          `json:"usageResourceUri"`
	MarketplaceResourceURI             string          `json:"marketplaceResourceUri"`
	Expires                            string          `json:"expires"`
	CloudID                            string          `json:"cloudId"`
	ObjectID                           string          `json:"objectId"`
	BillingModel                       string          `json:"billingModel"`
	HardwareInfo                       json.RawMessage `json:"hardwareInfo"`
	UsageReportingEnabled              bool            `json:"usageReportingEnabled"`
	MarketplaceSyndicationEnabled      bool            `json:"marketplaceSyndicationEnabled"`
	Issuer                             string          `json:"issuer"`
	Version                            string          `json:"version"`
}

func (s *Server) activationKey(sub *subState, g *group, reg *registration) (string, error) {
	cloudID := reg.cloudID
	if id := s.currentFaultsLocked().KeyCloudID; id != "" {
		cloudID = id
	}
	hw := reg.hardwareInfo
	if len(hw) == 0 {
		hw = json.RawMessage("[]")
	}
	return s.sign(keyPayload{
		SubscriptionID: sub.sub.ID, ResourceGroupName: g.name, RegistrationName: reg.name,
		CertPinningRootSubjects:            []string{"CN=azuresim test CA, O=AzS Courier"},
		CertPinningIntermediateThumbprints: []string{strings.ToUpper(randomHex(20))},
		UsageEndpoint:                      s.url + "/usage",
		MarketplaceEndpoint:                s.url,
		UsageResourceURI:                   "https://usage.microsoftazurestack.com",
		MarketplaceResourceURI:             "https://marketplace.microsoftazurestack.com",
		Expires:                            "9999-12-30T23:59:59.9999999Z",
		CloudID:                            cloudID, ObjectID: reg.objectID, BillingModel: reg.billingModel,
		HardwareInfo:                  hw,
		UsageReportingEnabled:         reg.usageReporting,
		MarketplaceSyndicationEnabled: reg.syndication,
		Issuer:                        "AzureBridge", Version: "1.0",
	})
}

// RegistrationState is a registration as the simulator holds it.
type RegistrationState struct {
	SubscriptionID, ResourceGroup, Name, CloudID, BillingModel, Etag string
	// LockName, LockLevel and LockNotes describe its lock, if any.
	LockName, LockLevel, LockNotes string
}

// Registrations returns the registrations of every subscription, sorted by
// subscription, resource group and name.
func (s *Server) Registrations() []RegistrationState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RegistrationState
	for _, sub := range s.subs {
		for _, g := range sub.groups {
			for _, reg := range g.regs {
				st := RegistrationState{SubscriptionID: sub.sub.ID, ResourceGroup: g.name, Name: reg.name,
					CloudID: reg.cloudID, BillingModel: reg.billingModel, Etag: reg.etag}
				if reg.lock != nil {
					st.LockName, st.LockLevel, st.LockNotes = reg.lock.name, reg.lock.level, reg.lock.notes
				}
				out = append(out, st)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.SubscriptionID+"/"+a.ResourceGroup+"/"+a.Name < b.SubscriptionID+"/"+b.ResourceGroup+"/"+b.Name
	})
	return out
}
