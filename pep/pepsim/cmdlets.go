package pepsim

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/azs-courier/azs-courier/pep/psrp"
)

// paramKind is how a parameter binds its argument.
type paramKind int

const (
	kindString paramKind = iota
	kindSwitch
	kindInt
	kindCredential
)

// paramSpec is one parameter of a simulated PEP function.
type paramSpec struct {
	Name      string
	Kind      paramKind
	Mandatory bool
	Position  int      // 0 = named only; else the positional slot (1-based)
	Set       []string // ValidateSet, case-insensitive
	Since     string   // the stamp version the parameter appeared in
}

// cmdlet is one command visible in the PrivilegedEndpoint JEA role.
type cmdlet struct {
	Name   string
	Params []paramSpec
	// ActionPlan marks commands that run an ECE action plan and so fail
	// while another one is in progress.
	ActionPlan bool
	// Since is the first stamp version whose role has the command.
	Since string
	Run   func(ctx context.Context, iv *invocation, args map[string]string) error
}

// commonParams are PowerShell's common parameters; every advanced
// function takes them.
var commonParams = []paramSpec{
	{Name: "Verbose", Kind: kindSwitch}, {Name: "Debug", Kind: kindSwitch},
	{Name: "ErrorAction"}, {Name: "WarningAction"}, {Name: "InformationAction"},
	{Name: "ErrorVariable"}, {Name: "WarningVariable"}, {Name: "InformationVariable"},
	{Name: "OutVariable"}, {Name: "OutBuffer", Kind: kindInt}, {Name: "PipelineVariable"},
}

// Billing models the PEP's New-RegistrationToken accepts.
var billingModels = []string{"Capacity", "PayAsYouUse", "Development", "Custom", "Ruggedized"}

// catalog returns the commands of the JEA role for this stamp version.
func (s *Server) catalog() []cmdlet {
	return []cmdlet{
		{Name: "Get-AzureStackStampInformation", Params: []paramSpec{{Name: "AsJob", Kind: kindSwitch}}, Run: s.stampInformation},
		{Name: "New-RegistrationToken", ActionPlan: true, Run: s.newRegistrationToken, Params: []paramSpec{
			{Name: "MsAssetTag", Position: 1, Since: "1.1912.0.19"},
			{Name: "AgreementNumber", Position: 2},
			{Name: "BillingModel", Position: 3, Set: billingModels},
			{Name: "UsageReportingEnabled", Kind: kindSwitch},
			{Name: "MarketplaceSyndicationEnabled", Kind: kindSwitch},
			{Name: "TokenVersion", Set: []string{"3.0", "4.0", "6.0"}, Since: "1.2008.0.49"},
			{Name: "AsJob", Kind: kindSwitch},
		}},
		{Name: "New-AzureStackActivation", ActionPlan: true, Run: s.newActivation, Params: []paramSpec{
			{Name: "TimeoutInSeconds", Kind: kindInt, Position: 1},
			{Name: "ActivationKey", Mandatory: true, Position: 2},
			{Name: "AsJob", Kind: kindSwitch},
		}},
		{Name: "Remove-AzureStackActivation", ActionPlan: true, Run: s.removeActivation, Params: []paramSpec{
			{Name: "TimeoutInSeconds", Kind: kindInt, Position: 1},
			{Name: "AsJob", Kind: kindSwitch},
		}},
		// On stamps newer than 1.2209.0.23 (HCI licensing); the module
		// calls it before New-RegistrationToken on multi-node stamps.
		{Name: "Set-RegistrationKeyPair", Since: "1.2209.0.24", Run: s.setRegistrationKeyPair},
		{Name: "Close-PrivilegedEndpoint", Run: s.closeEndpoint, Params: []paramSpec{
			{Name: "TranscriptsPathDestination", Position: 1},
			{Name: "Credential", Kind: kindCredential, Position: 2},
			{Name: "AsJob", Kind: kindSwitch},
		}},
		{Name: "Get-Command", Run: s.getCommand, Params: []paramSpec{
			{Name: "Name", Position: 1}, {Name: "Syntax", Kind: kindSwitch},
		}},
		// Standard JEA commands every restricted endpoint exposes.
		{Name: "Exit-PSSession", Run: noOutput},
		{Name: "Clear-Host", Run: noOutput},
		{Name: "Out-Default", Run: noOutput},
		{Name: "Get-FormatData", Run: noOutput, Params: []paramSpec{{Name: "TypeName", Position: 1}}},
	}
}

func noOutput(context.Context, *invocation, map[string]string) error { return nil }

// lookup returns the command named name (case-insensitive) if the role
// exposes it on this stamp, else nil.
func (s *Server) lookup(name string) *cmdlet {
	for _, k := range s.visible() {
		if strings.EqualFold(k.Name, name) {
			return &k
		}
	}
	return nil
}

// visible is the catalog less the commands the stamp's version or
// Options.WithoutCommands leave out.
func (s *Server) visible() []cmdlet {
	stamp, _ := parseVersion(s.opts.StampVersion)
	var out []cmdlet
	for _, k := range s.catalog() {
		if k.Since != "" {
			if v, _ := parseVersion(k.Since); compareVersion(stamp, v) < 0 {
				continue
			}
		}
		if slices.ContainsFunc(s.opts.WithoutCommands, func(n string) bool { return strings.EqualFold(n, k.Name) }) {
			continue
		}
		out = append(out, k)
	}
	return out
}

// setRegistrationKeyPair is Set-RegistrationKeyPair: it creates the
// stamp's registration key pair for HCI licensing and describes it.
func (s *Server) setRegistrationKeyPair(_ context.Context, iv *invocation, _ map[string]string) error {
	s.mu.Lock()
	s.keyPairs++
	n := s.keyPairs
	s.mu.Unlock()
	ts := "@{KeyPairId=...}"
	iv.output(psrp.ObjValue(&psrp.Object{
		TypeNames: []string{"System.Management.Automation.PSCustomObject", "System.Object"},
		ToString:  &ts,
		Members: []psrp.Value{
			named("KeyPairId", psrp.String(derivedGUID(s.opts.CloudID, fmt.Sprintf("keypair/%d", n)))),
			named("PublicKeyThumbprint", psrp.String(strings.ToUpper(derivedHex(s.opts.CloudID, fmt.Sprintf("keypair/%d/public", n))+derivedHex(s.opts.CloudID, fmt.Sprintf("keypair/%d/public2", n))[:8]))),
			named("CloudId", psrp.String(s.opts.CloudID)),
		},
	}))
	return nil
}

// invocation is one running pipeline as the cmdlets see it.
type invocation struct {
	s        *Server
	sh       *shell
	p        *pipeline
	cmd      string
	warnings bool              // false when -WarningAction SilentlyContinue/Ignore
	secrets  map[string]string // decrypted SecureStrings of the arguments
}

func (iv *invocation) emit(b psrp.Body) {
	iv.s.mu.Lock()
	defer iv.s.mu.Unlock()
	iv.sh.queue(iv.p, b)
}

func (iv *invocation) output(v psrp.Value) { iv.emit(psrp.PipelineOutput{Value: v}) }
func (iv *invocation) progress(activity, status string, percent int32, done bool) {
	iv.emit(psrp.ProgressRecord{Activity: activity, StatusDescription: status, ParentActivityID: -1,
		PercentComplete: percent, Completed: done, SecondsRemaining: -1})
}

// progressEvery is how often (simulated time) a long step reports
// progress; ECE action plans report their steps about that often.
const progressEvery = 30 * time.Second

// work spends the simulated duration d on one step, reporting progress
// from percent from towards to at least every progressEvery.
func (iv *invocation) work(ctx context.Context, activity, status string, from, to int32, d time.Duration) error {
	iv.progress(activity, status, from, false)
	for done := time.Duration(0); done < d; {
		step := min(progressEvery, d-done)
		if err := iv.s.sleep(ctx, step); err != nil {
			return err
		}
		done += step
		if done < d {
			pct := from + int32(float64(to-from)*float64(done)/float64(d))
			iv.progress(activity, fmt.Sprintf("%s (%s of %s)", status, done.Round(time.Second), d.Round(time.Second)), pct, false)
		}
	}
	return nil
}

func (iv *invocation) warning(msg string) {
	if iv.warnings {
		iv.emit(psrp.InformationalRecord{Type: psrp.WarningRecordType, Message: msg})
	}
}

// failure ends a pipeline with a terminating error record.
type failure struct{ rec psError }

func (f *failure) Error() string { return f.rec.Message }

func fail(rec psError) error { return &failure{rec: rec} }

// run executes a pipeline the JEA way: statement by statement, scripts
// refused, only the role's commands, parameters bound and validated as
// PowerShell does. It first waits for the pool's runspace.
func (s *Server) run(ctx context.Context, sh *shell, p *pipeline, cp psrp.CreatePipeline) {
	select {
	case <-p.inputDone:
	case <-ctx.Done():
		return
	}
	queued, ok := s.acquire(ctx, sh, p)
	if !ok {
		return
	}
	defer s.release(sh, p)
	end := func(b psrp.Body) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !p.done && ctx.Err() == nil {
			sh.queue(p, b)
		}
	}
	for _, stmt := range cp.Statements {
		for _, c := range stmt {
			if err := s.invoke(ctx, sh, p, c, queued); err != nil {
				var f *failure
				switch {
				case errors.As(err, &f):
					end(pipelineEnded(psrp.PipelineFailed, f.rec))
				case errors.Is(err, errStopped) || ctx.Err() != nil:
					// Signal or Delete: the pipeline's owner already
					// queued the Stopped state or threw the pipeline away.
				default:
					end(pipelineEnded(psrp.PipelineFailed, thrown(err.Error())))
				}
				return
			}
			queued = 0
		}
	}
	end(psrp.PipelineState{State: psrp.PipelineCompleted})
}

// acquire waits, in arrival order, until the pool's single runspace is
// free and takes it for p; it reports how long (simulated) p waited, and
// false when p was signalled or its shell deleted meanwhile.
func (s *Server) acquire(ctx context.Context, sh *shell, p *pipeline) (time.Duration, bool) {
	t0 := s.simNow()
	s.mu.Lock()
	defer s.mu.Unlock()
	sh.waiting = append(sh.waiting, p)
	for sh.holder != nil || sh.waiting[0] != p {
		wake := sh.wake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
		}
		s.mu.Lock()
		if ctx.Err() != nil {
			sh.waiting = slices.DeleteFunc(sh.waiting, func(q *pipeline) bool { return q == p })
			sh.notify()
			return 0, false
		}
	}
	sh.waiting = sh.waiting[1:]
	sh.holder = p
	return s.simNow() - t0, true
}

// release frees the runspace p holds.
func (s *Server) release(sh *shell, p *pipeline) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh.holder == p {
		sh.holder = nil
		sh.notify()
	}
}

// invoke runs one command of a statement and records it in the
// server's invocations.
func (s *Server) invoke(ctx context.Context, sh *shell, p *pipeline, c psrp.Command, queued time.Duration) error {
	s.mu.Lock()
	inv := &Invocation{Command: c.Name, Queued: queued, Start: s.simNow(), Outcome: "Running"}
	s.invs = append(s.invs, inv)
	s.mu.Unlock()
	err := s.runCommand(ctx, sh, p, c, func(name string, args map[string]string) {
		s.mu.Lock()
		inv.Command, inv.Args = name, args
		s.mu.Unlock()
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	inv.End = s.simNow()
	var f *failure
	switch {
	case ctx.Err() != nil && p.signal == signalStop:
		inv.Outcome = "Stopped"
	case ctx.Err() != nil && p.signal != "":
		inv.Outcome = "Terminated"
	case ctx.Err() != nil:
		inv.Outcome = "Closed"
	case errors.As(err, &f):
		inv.Outcome = "Failed: " + f.rec.Message
	case err != nil:
		inv.Outcome = "Failed: " + err.Error()
	default:
		inv.Outcome = "Completed"
	}
	return err
}

// runCommand finds, binds and runs one command; bound learns the
// canonical name and the bound arguments before the command runs.
func (s *Server) runCommand(ctx context.Context, sh *shell, p *pipeline, c psrp.Command, bound func(string, map[string]string)) error {
	if c.IsScript {
		return fail(scriptsNotAllowed(c.Name))
	}
	cmd := s.lookup(c.Name)
	if cmd == nil {
		return fail(commandNotFound(c.Name))
	}
	s.mu.Lock()
	key := sh.sessionKey
	s.mu.Unlock()
	args, secrets, err := s.bind(cmd, c.Parameters, key)
	if err != nil {
		return err
	}
	bound(cmd.Name, maps.Clone(args))
	iv := &invocation{s: s, sh: sh, p: p, cmd: cmd.Name, warnings: true, secrets: secrets}
	if wa := strings.ToLower(args["WarningAction"]); wa == "silentlycontinue" || wa == "ignore" {
		iv.warnings = false
	}
	s.mu.Lock()
	first := !sh.modulesLoaded
	sh.modulesLoaded = true
	s.mu.Unlock()
	if first {
		// What PowerShell reports while it autoloads the role's modules:
		// a progress record whose status is a single space.
		iv.progress("Preparing modules for first use.", " ", -1, false)
	}
	s.mu.Lock()
	busy := cmd.ActionPlan && take(&s.faults.Busy)
	broken := (s.faults.CommandErrorName == "" || strings.EqualFold(s.faults.CommandErrorName, cmd.Name)) && take(&s.faults.CommandErrors)
	s.mu.Unlock()
	switch {
	case busy:
		return fail(thrown(AnotherActionInProgress))
	case broken:
		return fail(thrown(cmd.Name + ": the simulated PEP failed this call (Faults.CommandErrors)."))
	}
	return cmd.Run(ctx, iv, args)
}

// bind matches arguments to parameters as PowerShell's binder does: names
// case-insensitive and by unique prefix, positional arguments by slot,
// switches from <Nil/> or a boolean, ValidateSet, mandatory and non-empty
// checks. Bound values come back by canonical parameter name. A
// PSCredential binds as its user name in args and its password, decrypted
// with the pool's session key, in secrets under "<parameter>.Password".
func (s *Server) bind(cmd *cmdlet, in []psrp.Parameter, sessionKey []byte) (args, secrets map[string]string, err error) {
	out, err := s.bindArgs(cmd, in, sessionKey, func(k, v string) {
		if secrets == nil {
			secrets = map[string]string{}
		}
		secrets[k] = v
	})
	return out, secrets, err
}

func (s *Server) bindArgs(cmd *cmdlet, in []psrp.Parameter, sessionKey []byte, secret func(k, v string)) (map[string]string, error) {
	stamp, _ := parseVersion(s.opts.StampVersion)
	var specs []paramSpec
	for _, p := range append(slices.Clone(cmd.Params), commonParams...) {
		if p.Since != "" {
			v, _ := parseVersion(p.Since)
			if compareVersion(stamp, v) < 0 {
				continue
			}
		}
		specs = append(specs, p)
	}
	bindErr := func(exc []string, msg, id string, cat int32, target string) error {
		return fail(psError{Exception: exc, Message: msg, FQID: id + "," + cmd.Name, Category: cat,
			Reason: exc[0][strings.LastIndex(exc[0], ".")+1:], TargetObject: target, Activity: cmd.Name})
	}
	out := map[string]string{}
	nextPos := 1
	for _, a := range in {
		var spec *paramSpec
		if a.Name == "" {
			for i := range specs {
				if specs[i].Position >= nextPos && (spec == nil || specs[i].Position < spec.Position) {
					if _, taken := out[specs[i].Name]; !taken {
						spec = &specs[i]
					}
				}
			}
			if spec == nil {
				return nil, bindErr(excParameterBinding, fmt.Sprintf("A positional parameter cannot be found that accepts argument '%s'.", a.Value.Str()),
					"PositionalParameterNotFound", catInvalidArgument, "")
			}
			nextPos = spec.Position + 1
		} else {
			name := strings.TrimPrefix(a.Name, "-")
			var matches []*paramSpec
			for i := range specs {
				if strings.EqualFold(specs[i].Name, name) {
					matches = []*paramSpec{&specs[i]}
					break
				}
				if len(name) > 0 && len(specs[i].Name) >= len(name) && strings.EqualFold(specs[i].Name[:len(name)], name) {
					matches = append(matches, &specs[i])
				}
			}
			switch len(matches) {
			case 0:
				return nil, bindErr(excParameterBinding, fmt.Sprintf("A parameter cannot be found that matches parameter name '%s'.", name),
					"NamedParameterNotFound", catInvalidArgument, "")
			case 1:
				spec = matches[0]
			default:
				var names []string
				for _, m := range matches {
					names = append(names, "-"+m.Name)
				}
				return nil, bindErr(excParameterBinding, fmt.Sprintf("Parameter cannot be processed because the parameter name '%s' is ambiguous. Possible matches include: %s.", name, strings.Join(names, " ")),
					"AmbiguousParameter", catInvalidArgument, "")
			}
		}
		if _, dup := out[spec.Name]; dup {
			return nil, bindErr(excParameterBinding, fmt.Sprintf("Cannot bind parameter because parameter '%s' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\".", spec.Name),
				"ParameterAlreadyBound", catInvalidArgument, "")
		}
		v := a.Value
		switch spec.Kind {
		case kindSwitch:
			switch {
			case v.IsNil():
				out[spec.Name] = "true"
			case v.Kind == "B":
				out[spec.Name] = strings.ToLower(strings.TrimSpace(v.Text))
			default:
				return nil, bindErr(excParameterBinding, fmt.Sprintf("Cannot process argument transformation on parameter '%s'. Cannot convert value \"%s\" to type \"System.Management.Automation.SwitchParameter\".", spec.Name, v.Str()),
					"ParameterArgumentTransformationError", catInvalidData, v.Str())
			}
			continue
		case kindCredential:
			pw, _ := v.Member("Password")
			if v.Kind != "Obj" || v.MemberStr("UserName") == "" || pw.Kind != "SS" {
				return nil, bindErr(excParameterBinding, fmt.Sprintf("Cannot process argument transformation on parameter '%s'. A PSCredential with a SecureString password is required.", spec.Name),
					"ParameterArgumentTransformationError", catInvalidData, "")
			}
			if sessionKey == nil {
				return nil, bindErr(excParameterBinding, fmt.Sprintf("Cannot process argument transformation on parameter '%s'. The SecureString could not be decrypted: the client exchanged no session key.", spec.Name),
					"ParameterArgumentTransformationError", catInvalidData, "")
			}
			plain, err := psrp.DecryptSecureString(sessionKey, pw.Text)
			if err != nil {
				return nil, bindErr(excParameterBinding, fmt.Sprintf("Cannot process argument transformation on parameter '%s'. The SecureString could not be decrypted with the session key.", spec.Name),
					"ParameterArgumentTransformationError", catInvalidData, "")
			}
			out[spec.Name] = v.MemberStr("UserName")
			secret(spec.Name+".Password", plain)
			continue
		}
		if v.IsNil() {
			if spec.Mandatory || a.Name != "" && spec.Kind != kindString {
				return nil, bindErr(excParameterValidation, fmt.Sprintf("Cannot bind argument to parameter '%s' because it is null.", spec.Name),
					"ParameterArgumentValidationErrorNullNotAllowed", catInvalidData, "")
			}
			if a.Name != "" && spec.Kind == kindString && !spec.Mandatory {
				// PowerShell: a named non-switch parameter without a value.
				return nil, bindErr(excParameterBinding, fmt.Sprintf("Missing an argument for parameter '%s'. Specify a parameter of type 'System.String' and try again.", spec.Name),
					"MissingArgument", catInvalidArgument, "")
			}
		}
		text := v.Str()
		if v.Kind == "Obj" && v.Obj != nil && v.Obj.ListKind != "" {
			return nil, bindErr(excParameterBinding, fmt.Sprintf("Cannot convert 'System.Object[]' to the type 'System.String' required by parameter '%s'. Specified method is not supported.", spec.Name),
				"CannotConvertArgument", catInvalidArgument, "")
		}
		switch spec.Kind {
		case kindInt:
			n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 32)
			if err != nil {
				return nil, bindErr(excParameterBinding, fmt.Sprintf("Cannot process argument transformation on parameter '%s'. Cannot convert value \"%s\" to type \"System.Int32\". Error: \"Input string was not in a correct format.\"", spec.Name, text),
					"ParameterArgumentTransformationError", catInvalidData, text)
			}
			text = strconv.FormatInt(n, 10)
		case kindString:
			if spec.Mandatory && text == "" {
				return nil, bindErr(excParameterValidation, fmt.Sprintf("Cannot bind argument to parameter '%s' because it is an empty string.", spec.Name),
					"ParameterArgumentValidationErrorEmptyStringNotAllowed", catInvalidData, "")
			}
		}
		if len(spec.Set) > 0 {
			i := slices.IndexFunc(spec.Set, func(m string) bool { return strings.EqualFold(m, text) })
			if i < 0 {
				return nil, bindErr(excParameterValidation, fmt.Sprintf("Cannot validate argument on parameter '%s'. The argument \"%s\" does not belong to the set \"%s\" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.", spec.Name, text, strings.Join(spec.Set, ",")),
					"ParameterArgumentValidationError", catInvalidData, text)
			}
			text = spec.Set[i]
		}
		out[spec.Name] = text
	}
	var missing []string
	for _, p := range specs {
		if _, ok := out[p.Name]; p.Mandatory && !ok {
			missing = append(missing, p.Name)
		}
	}
	if len(missing) > 0 {
		return nil, bindErr(excParameterBinding, "Cannot process command because of one or more missing mandatory parameters: "+strings.Join(missing, " ")+".",
			"MissingMandatoryParameter", catInvalidArgument, "")
	}
	return out, nil
}

// stampInformation is Get-AzureStackStampInformation.
func (s *Server) stampInformation(_ context.Context, iv *invocation, _ map[string]string) error {
	o := s.opts
	custom := func(ms ...psrp.Value) psrp.Value {
		parts := make([]string, 0, len(ms))
		for _, m := range ms {
			parts = append(parts, m.Name+"="+m.Str())
		}
		ts := "@{" + strings.Join(parts, "; ") + "}"
		return psrp.ObjValue(&psrp.Object{TypeNames: []string{"System.Management.Automation.PSCustomObject", "System.Object"}, ToString: &ts, Members: ms})
	}
	prefix := strings.ToUpper(strings.SplitN(o.DomainFQDN, ".", 2)[0])
	external := o.RegionName + ".azurestack.external"
	ercs := psrp.ObjValue(&psrp.Object{
		TypeNames: []string{"System.Object[]", "System.Array", "System.Object"}, ListKind: "LST",
		List: []psrp.Value{psrp.String("10.20.30.224"), psrp.String("10.20.30.225"), psrp.String("10.20.30.226")},
	})
	iv.output(custom(
		named("DeploymentID", psrp.String(derivedGUID(o.CloudID, "deployment"))),
		named("CloudID", psrp.String(o.CloudID)),
		named("StampVersion", psrp.String(o.StampVersion)),
		named("NumberOfNodes", psrp.Int32(int32(s.Nodes()))),
		named("AADTenantID", psrp.String(derivedGUID(o.CloudID, "tenant"))),
		named("RegionName", psrp.String(o.RegionName)),
		named("ExternalDomainFQDN", psrp.String(external)),
		named("DomainFQDN", psrp.String(o.DomainFQDN)),
		named("DomainNetBIOSName", psrp.String(s.domain)),
		named("NamingPrefix", psrp.String(prefix)),
		named("EmergencyConsoleIPAddresses", ercs),
		named("AdminExternalEndpoints", custom(
			named("AdminResourceManager", psrp.String("https://adminmanagement."+external)),
			named("AdminPortal", psrp.String("https://adminportal."+external)),
		)),
		named("TenantExternalEndpoints", custom(
			named("TenantResourceManager", psrp.String("https://management."+external)),
			named("TenantPortal", psrp.String("https://portal."+external)),
		)),
	))
	return nil
}

// hardwareInfo is one node's entry in a registration token.
type hardwareInfo struct {
	NumCores int      `json:"numCores"`
	BIOS     []string `json:"bios"`
	NIC      []string `json:"nic"`
	CPU      []string `json:"cpu"`
	Name     string   `json:"name"`
	Disk     []string `json:"disk"`
	UUID     string   `json:"uuid"`
	Memory   []string `json:"memory"`
}

// registrationToken is the JSON a token encodes, in the field order of the
// shared vectors.
type registrationToken struct {
	BillingModel                  string         `json:"billingModel"`
	ObjectID                      string         `json:"objectId"`
	CloudID                       string         `json:"cloudId"`
	MarketplaceSyndicationEnabled bool           `json:"marketplaceSyndicationEnabled"`
	UsageReportingEnabled         bool           `json:"usageReportingEnabled"`
	AgreementNumber               string         `json:"agreementNumber"`
	MsAssetTag                    string         `json:"msAssetTag,omitempty"`
	HardwareInfo                  []hardwareInfo `json:"hardwareInfo"`
	Issuer                        string         `json:"issuer"`
	Version                       string         `json:"version"`
}

// Token builds the registration token New-RegistrationToken returns for
// these arguments. It is deterministic for a stamp.
func (s *Server) token(args map[string]string) string {
	t := registrationToken{
		BillingModel:                  args["BillingModel"],
		ObjectID:                      derivedGUID(s.opts.CloudID, "object"),
		CloudID:                       s.opts.CloudID,
		MarketplaceSyndicationEnabled: args["MarketplaceSyndicationEnabled"] == "true",
		UsageReportingEnabled:         args["UsageReportingEnabled"] == "true",
		AgreementNumber:               args["AgreementNumber"],
		MsAssetTag:                    args["MsAssetTag"],
		Issuer:                        "AzureStack",
		Version:                       args["TokenVersion"],
	}
	if t.BillingModel == "" {
		t.BillingModel = "Development"
	}
	if t.Version == "" {
		t.Version = "3.0"
	}
	for i := range s.Nodes() {
		h := func(kind string, n int) []string {
			out := make([]string, n)
			for j := range out {
				out[j] = derivedHex(s.opts.CloudID, fmt.Sprintf("node%d/%s/%d", i, kind, j))
			}
			return out
		}
		t.HardwareInfo = append(t.HardwareInfo, hardwareInfo{
			NumCores: 48, BIOS: h("bios", 1), NIC: h("nic", 2), CPU: h("cpu", 2),
			Name: fmt.Sprintf("%s-N%02d", s.nodePrefix(), i+1), Disk: h("disk", 4),
			UUID: strings.ToLower(derivedGUID(s.opts.CloudID, fmt.Sprintf("node%d", i))), Memory: h("memory", 2),
		})
	}
	b, _ := json.Marshal(t) // plain strings, bools and ints: cannot fail
	return base64.StdEncoding.EncodeToString(b)
}

func (s *Server) nodePrefix() string {
	return strings.ToUpper(strings.SplitN(s.opts.DomainFQDN, ".", 2)[0])
}

// newRegistrationToken is New-RegistrationToken: it collects hardware
// information node by node (progress records, TokenDelay in total) and
// returns the token string.
func (s *Server) newRegistrationToken(ctx context.Context, iv *invocation, args map[string]string) error {
	const activity = "New-RegistrationToken"
	n := s.Nodes()
	step := s.opts.TokenDelay / time.Duration(n+1)
	for i := range n {
		iv.progress(activity, fmt.Sprintf("Collecting hardware information from %s-N%02d", s.nodePrefix(), i+1), int32(100*i/n), false)
		if err := s.sleep(ctx, step); err != nil {
			return err
		}
	}
	iv.progress(activity, "Creating the registration token", 100, false)
	if err := s.sleep(ctx, step); err != nil {
		return err
	}
	iv.progress(activity, "Completed", 100, true)
	iv.output(psrp.String(s.token(args)))
	return nil
}

// activationPayload is the part of an activation key the PEP checks.
type activationPayload struct {
	CloudID string `json:"cloudId"`
}

// checkActivationKey checks a key's shape (JWS compact serialisation,
// three base64url parts, JSON header with alg and a JSON payload) and
// returns its payload's cloud ID.
func checkActivationKey(key string) (string, error) {
	key = strings.TrimSpace(key)
	parts := strings.Split(key, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("the activation key is not valid: it has %d dot-separated parts, want 3 (header.payload.signature)", len(parts))
	}
	dec := func(i int) ([]byte, error) {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[i], "="))
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("the activation key is not valid: part %d is not base64url", i+1)
		}
		return b, nil
	}
	hb, err := dec(0)
	if err != nil {
		return "", err
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hb, &header) != nil || header.Alg == "" {
		return "", errors.New("the activation key is not valid: its header is not a JWS header")
	}
	pb, err := dec(1)
	if err != nil {
		return "", err
	}
	var p activationPayload
	if json.Unmarshal(pb, &p) != nil || p.CloudID == "" {
		return "", errors.New("the activation key is not valid: its payload has no cloudId")
	}
	if _, err := dec(2); err != nil {
		return "", err
	}
	return p.CloudID, nil
}

// newActivation is New-AzureStackActivation.
func (s *Server) newActivation(ctx context.Context, iv *invocation, args map[string]string) error {
	key := strings.TrimSpace(args["ActivationKey"])
	cloud, err := checkActivationKey(key)
	if err != nil {
		return fail(thrown(strings.ToUpper(err.Error()[:1]) + err.Error()[1:] + "."))
	}
	if !strings.EqualFold(cloud, s.opts.CloudID) {
		return fail(thrown(fmt.Sprintf("The activation key was issued for cloud ID %s, but this Azure Stack Hub has cloud ID %s.", cloud, s.opts.CloudID)))
	}
	const activity = "New-AzureStackActivation"
	steps := []string{"Validating the activation key", "Configuring usage and marketplace bridges", "Activating Azure Stack Hub"}
	for i, st := range steps {
		from, to := int32(100*i/len(steps)), int32(100*(i+1)/len(steps))
		if err := iv.work(ctx, activity, st, from, to, s.opts.ActivationDelay/time.Duration(len(steps))); err != nil {
			return err
		}
	}
	iv.progress(activity, "Completed", 100, true)
	s.mu.Lock()
	s.activated, s.key = true, key
	s.mu.Unlock()
	return nil
}

// removeActivation is Remove-AzureStackActivation.
func (s *Server) removeActivation(ctx context.Context, iv *invocation, _ map[string]string) error {
	s.mu.Lock()
	was := s.activated
	s.mu.Unlock()
	if !was {
		iv.warning("Azure Stack Hub is not activated; there is no activation to remove.")
	}
	if err := iv.work(ctx, "Remove-AzureStackActivation", "Removing the activation", 0, 100, s.opts.ActivationDelay); err != nil {
		return err
	}
	iv.progress("Remove-AzureStackActivation", "Completed", 100, true)
	s.mu.Lock()
	s.activated, s.key = false, ""
	s.mu.Unlock()
	return nil
}

// closeEndpoint is Close-PrivilegedEndpoint. With
// -TranscriptsPathDestination it "copies" the session transcripts to that
// share with -Credential: the simulator checks the path's form and, when
// Options.TranscriptsUser is set, the account, and records what it
// received (see [Server.Transcripts]).
func (s *Server) closeEndpoint(ctx context.Context, iv *invocation, args map[string]string) error {
	path, ok := args["TranscriptsPathDestination"]
	if !ok {
		return nil
	}
	user, hasCred := args["Credential"]
	password := iv.secrets["Credential.Password"]
	switch {
	case !isUNC(path):
		return fail(thrown(fmt.Sprintf("Cannot copy the transcripts to '%s': TranscriptsPathDestination must be a share path such as \\\\server\\share\\folder.", path)))
	case !hasCred:
		return fail(thrown(fmt.Sprintf("Cannot copy the transcripts to '%s': no credential for the share was given.", path)))
	case s.opts.TranscriptsUser != "" && (!strings.EqualFold(user, s.opts.TranscriptsUser) || password != s.opts.TranscriptsPassword):
		return fail(thrown(fmt.Sprintf("Cannot copy the transcripts to '%s': Access is denied. The user name or password is incorrect.", path)))
	}
	if err := iv.work(ctx, "Close-PrivilegedEndpoint", "Copying the session transcripts to "+path, 0, 100, 0); err != nil {
		return err
	}
	s.mu.Lock()
	s.transcripts = append(s.transcripts, TranscriptCopy{Path: path, User: user, Password: password, At: s.opts.Now()})
	s.mu.Unlock()
	return nil
}

// isUNC reports whether p looks like \\server\share[\...].
func isUNC(p string) bool {
	rest, ok := strings.CutPrefix(p, `\\`)
	if !ok {
		return false
	}
	server, share, _ := strings.Cut(rest, `\`)
	share, _, _ = strings.Cut(share, `\`)
	return server != "" && share != "" && !strings.ContainsAny(server, "/:*?\"<>|")
}

// getCommand is Get-Command, limited to the role's commands.
func (s *Server) getCommand(_ context.Context, iv *invocation, args map[string]string) error {
	cat := s.visible()
	name := args["Name"]
	found := false
	for _, c := range cat {
		if name != "" && !strings.EqualFold(c.Name, name) {
			continue
		}
		found = true
		if args["Syntax"] == "true" {
			iv.output(psrp.String(s.syntax(c)))
			continue
		}
		ts := c.Name
		iv.output(psrp.ObjValue(&psrp.Object{
			TypeNames: []string{"System.Management.Automation.FunctionInfo", "System.Management.Automation.CommandInfo", "System.Object"},
			ToString:  &ts,
			Props: []psrp.Value{
				named("Name", psrp.String(c.Name)),
				named("CommandType", psrp.Enum("System.Management.Automation.CommandTypes", "Function", 2)),
				named("ModuleName", psrp.String("ECEJeaRole")),
				named("Source", psrp.String("ECEJeaRole")),
			},
		}))
	}
	if !found {
		rec := commandNotFound(name)
		rec.FQID = "CommandNotFoundException,Microsoft.PowerShell.Commands.GetCommandCommand"
		rec.Activity = "Get-Command"
		iv.emit(errorRecordBody(rec))
	}
	return nil
}

// syntax renders a command's syntax line as Get-Command -Syntax does.
func (s *Server) syntax(c cmdlet) string {
	stamp, _ := parseVersion(s.opts.StampVersion)
	parts := []string{c.Name}
	for _, p := range c.Params {
		if p.Since != "" {
			v, _ := parseVersion(p.Since)
			if compareVersion(stamp, v) < 0 {
				continue
			}
		}
		t := "-" + p.Name
		switch p.Kind {
		case kindString:
			t += " <string>"
		case kindInt:
			t += " <int>"
		case kindCredential:
			t += " <pscredential>"
		}
		if p.Position > 0 {
			t = "[" + strings.Replace(t, " ", "] ", 1)
			if !strings.Contains(t, "]") {
				t += "]"
			}
		}
		if !p.Mandatory {
			t = "[" + t + "]"
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, " ") + " [<CommonParameters>]"
}

// derivedGUID makes a stable GUID from the cloud ID and a label.
func derivedGUID(seed, label string) string {
	h := sha256.Sum256([]byte(seed + "/" + label))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b)
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// derivedHex makes a stable 32-hex-digit hash, the shape of a token's
// hardware fingerprints.
func derivedHex(seed, label string) string {
	h := sha256.Sum256([]byte(seed + "/" + label))
	return hex.EncodeToString(h[:16])
}

// parseVersion parses a .NET [Version] string of 2 to 4 parts.
func parseVersion(s string) ([4]int, error) {
	var v [4]int
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 || len(parts) > 4 {
		return v, fmt.Errorf("not a version (want major.minor[.build[.revision]])")
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, fmt.Errorf("not a version: part %q", p)
		}
		v[i] = n
	}
	return v, nil
}

func compareVersion(a, b [4]int) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
