package psrp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/internal/testutil"
	"github.com/azs-courier/azs-courier/pep/wsman"
)

// replayComparer checks each request our client sends against the recorded
// one: ShellId, CommandId and signal code, and every PSRP message after
// reassembly (destination, type and the bytes after the 40-byte header;
// the RPID/PID bytes are not compared because the 2018 recordings hold
// them in RFC byte order).
type replayComparer struct {
	got, want Defragmenter
	compared  int
}

func (c *replayComparer) check(i int, got, want *wsman.Envelope) error {
	if !strings.EqualFold(got.ShellID, want.ShellID) {
		return fmt.Errorf("ShellId %s, recorded %s", got.ShellID, want.ShellID)
	}
	if !strings.EqualFold(got.CommandID, want.CommandID) {
		return fmt.Errorf("CommandId %q, recorded %q", got.CommandID, want.CommandID)
	}
	if got.ResourceURI != want.ResourceURI {
		return fmt.Errorf("ResourceURI %s, recorded %s", got.ResourceURI, want.ResourceURI)
	}
	if got.SignalCode != want.SignalCode {
		return fmt.Errorf("signal %q, recorded %q", got.SignalCode, want.SignalCode)
	}
	gm, err := messagesOf(&c.got, got)
	if err != nil {
		return fmt.Errorf("our request: %w", err)
	}
	wm, err := messagesOf(&c.want, want)
	if err != nil {
		return fmt.Errorf("recorded request: %w", err)
	}
	if len(gm) != len(wm) {
		return fmt.Errorf("%d PSRP messages, recorded %d", len(gm), len(wm))
	}
	for k := range gm {
		g, w := gm[k], wm[k]
		if g.Destination != w.Destination || g.Type != w.Type {
			return fmt.Errorf("message %d: %v %v, recorded %v %v", k, g.Destination, g.Type, w.Destination, w.Type)
		}
		if want := normaliseAttrs(w.Data); !bytes.Equal(g.Data, want) {
			return fmt.Errorf("message %d (%v) differs after the header:\ngot  %s\nwant %s", k, g.Type, g.Data, want)
		}
		c.compared++
	}
	return nil
}

func messagesOf(d *Defragmenter, env *wsman.Envelope) ([]Message, error) {
	var out []Message
	for _, s := range env.Streams {
		raws, err := d.AddData(s.Data)
		if err != nil {
			return nil, err
		}
		for _, raw := range raws {
			var m Message
			if err := m.UnmarshalBinary(raw); err != nil {
				return nil, err
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// replaySetup reads a recording and returns a client on a Replay transport,
// pool options that reuse the recorded shell and pipeline IDs, and the
// recorded CREATE_PIPELINE bodies in order.
type replaySetup struct {
	client    *wsman.Client
	replay    *wsman.Replay
	cmp       *replayComparer
	opts      PoolOptions
	pipelines []CreatePipeline
	rec       *wsman.Recording
}

func newReplay(t *testing.T, name string) *replaySetup {
	t.Helper()
	rec, err := wsman.ParseRecording(testutil.ReadShared(t, "psrp", name))
	if err != nil {
		t.Fatal(err)
	}
	s := &replaySetup{cmp: &replayComparer{}, rec: rec}
	var pids []GUID
	var d Defragmenter
	for _, x := range rec.Messages {
		env, err := wsman.ParseEnvelope([]byte(x.Request))
		if err != nil {
			t.Fatal(err)
		}
		switch env.Action {
		case wsman.ActionCreate:
			id, err := ParseGUID(env.ShellID)
			if err != nil {
				t.Fatal(err)
			}
			s.opts.ID = id
			s.client = &wsman.Client{To: env.To, ResourceURI: env.ResourceURI}
		case wsman.ActionCommand:
			id, err := ParseGUID(env.CommandID)
			if err != nil {
				t.Fatal(err)
			}
			pids = append(pids, id)
		}
		msgs, err := messagesOf(&d, env)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Type == CreatePipelineType {
				p, err := ParseCreatePipeline(m.Data)
				if err != nil {
					t.Fatal(err)
				}
				s.pipelines = append(s.pipelines, p)
			}
		}
	}
	s.opts.NewPipelineID = func() GUID {
		if len(pids) == 0 {
			t.Fatal("more pipelines than recorded")
		}
		id := pids[0]
		pids = pids[1:]
		return id
	}
	s.opts.NoTerminateSignal = !strings.Contains(string(testutil.ReadShared(t, "psrp", name)), "signal/Terminate")
	s.replay = &wsman.Replay{Recording: rec, Check: s.cmp.check}
	s.client.Transport = s.replay
	return s
}

func (s *replaySetup) done(t *testing.T) {
	t.Helper()
	if !s.replay.Done() {
		t.Errorf("used %d of %d recorded exchanges", s.replay.Used(), len(s.rec.Messages))
	}
	t.Logf("%d exchanges replayed, %d PSRP messages compared", s.replay.Used(), s.cmp.compared)
	if s.cmp.compared == 0 {
		t.Error("no PSRP message was compared")
	}
}

func cmd(name string, params ...Parameter) Command { return Command{Name: name, Parameters: params} }

func TestReplayJEA(t *testing.T) {
	s := newReplay(t, "test_psrp_with_jea_configuration.yml")
	ctx := context.Background()
	pool, err := Open(ctx, s.client, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pool.Invoke(ctx, CreatePipeline{Statements: [][]Command{{
		cmd("Get-Item", Parameter{Name: "Path", Value: String(`WSMan:\localhost\Service\AllowUnencrypted`)}),
	}}}, InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Output) != 1 || res.Output[0].MemberStr("Value") != "true" {
		t.Errorf("Get-Item output = %+v, want one object with Value true", res.Output)
	}
	_, err = pool.Invoke(ctx, CreatePipeline{Statements: [][]Command{
		{cmd("Get-Item", Parameter{Name: "Path", Value: String(`C:\Windows`)})},
		{{Name: `Set-Item -Path WSMan:\localhost\Service\AllowUnencrypted -Value $false`, IsScript: true}},
	}}, InvokeOptions{})
	var rec *ErrorRecord
	if !errors.As(err, &rec) || rec.FullyQualifiedErrorID != "ScriptsNotAllowed" {
		t.Errorf("second pipeline: got %v, want ScriptsNotAllowed", err)
	}
	if err := pool.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s.done(t)
}

func TestReplayOpenRunspace(t *testing.T) {
	s := newReplay(t, "test_psrp_open_runspace.yml")
	ctx := context.Background()
	pool, err := Open(ctx, s.client, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := pool.ServerCapability.ProtocolVersion; got != "2.3" {
		t.Errorf("server protocolversion %q, want 2.3", got)
	}
	if err := pool.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s.done(t)
}

func TestReplayMultipleInvocations(t *testing.T) {
	s := newReplay(t, "test_psrp_multiple_invocations.yml")
	if s.opts.NoTerminateSignal {
		t.Fatal("the 2025 recording sends Signal Terminate")
	}
	ctx := context.Background()
	pool, err := Open(ctx, s.client, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		res, err := pool.Invoke(ctx, CreatePipeline{Statements: [][]Command{{{Name: "1+1", IsScript: true}}}}, InvokeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Output) != 1 || res.Output[0].Kind != "I32" || res.Output[0].Text != "2" {
			t.Errorf("1+1 = %+v, want <I32>2</I32>", res.Output)
		}
	}
	if err := pool.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s.done(t)
}

func TestReplayWithInput(t *testing.T) {
	s := newReplay(t, "test_psrp_with_input.yml")
	ctx := context.Background()
	pool, err := Open(ctx, s.client, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	ht := ObjValue(&Object{TypeNames: []string{"System.Collections.Hashtable", "System.Object"}, IsDict: true, Dict: []DictEntry{{Key: String("a"), Value: String("b")}}})
	arr := ObjValue(&Object{TypeNames: []string{"System.Object[]", "System.Array", "System.Object"}, ListKind: "LST", List: []Value{String("a"), String("b")}})
	var records []Record
	res, err := pool.Invoke(ctx, s.pipelines[0], InvokeOptions{
		Input:    []Value{String("1"), Int32(2), ht, arr},
		OnRecord: func(r Record) { records = append(records, r) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Output) != 4 {
		t.Errorf("got %d outputs, want the 4 inputs back", len(res.Output))
	}
	var kinds []string
	for _, r := range records {
		kinds = append(kinds, r.Type.String()+":"+r.Message)
	}
	if got := strings.Join(kinds, ","); !strings.Contains(got, "DEBUG_RECORD:Start Block") || !strings.Contains(got, "DEBUG_RECORD:End Block") || !strings.Contains(got, "PROGRESS_RECORD") {
		t.Errorf("records = %s, want progress and both debug records", got)
	}
	if err := pool.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s.done(t)
}

func TestReplayLongRunningTimedOut(t *testing.T) {
	s := newReplay(t, "test_psrp_long_running_cmdlet.yml")
	ctx := context.Background()
	pool, err := Open(ctx, s.client, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pool.Invoke(ctx, s.pipelines[0], InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != PipelineCompleted {
		t.Errorf("state %v after TimedOut re-polls, want Completed", res.State)
	}
	if err := pool.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s.done(t)
}

func TestReplayReceiveFailure(t *testing.T) {
	s := newReplay(t, "test_psrp_receive_failure.yml")
	ctx := context.Background()
	pool, err := Open(ctx, s.client, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	env, _ := wsman.ParseEnvelope([]byte(s.rec.Messages[3].Request))
	_, err = pool.Shell.Receive(ctx, env.CommandID)
	var f *wsman.Fault
	if !errors.As(err, &f) || f.WSManCode != wsman.CodeInvalidSelectors {
		t.Fatalf("got %v, want an InvalidSelectors fault", err)
	}
	if err := pool.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !s.replay.Done() {
		t.Errorf("used %d of %d exchanges", s.replay.Used(), len(s.rec.Messages))
	}
}

func TestReplaySmallMessageSize(t *testing.T) {
	s := newReplay(t, "test_psrp_small_msg_size.yml")
	ctx := context.Background()
	// pypsrp first reads the server's MaxEnvelopeSizekb (32 here).
	cfg := *s.client
	cfg.ResourceURI = "http://schemas.microsoft.com/wbem/wsman/1/config"
	resp, err := cfg.Invoke(ctx, wsman.Request{Action: "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"})
	if err != nil || resp.Fault != nil {
		t.Fatalf("config Get: %v", err)
	}
	s.opts.MaxEnvelopeSize = 32 << 10
	pool, err := Open(ctx, s.client, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pool.Invoke(ctx, s.pipelines[0], InvokeOptions{Input: []Value{String("input")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Output) != 3 {
		t.Errorf("got %d outputs, want 3 (one of them 20 KB, reassembled)", len(res.Output))
	}
	if err := pool.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s.done(t)
}

// TestReplayMultipleCommandsSessionKey replays pypsrp's session key
// exchange with pypsrp's RSA key: ExchangeKey sends the recorded
// PUBLIC_KEY byte for byte, decrypts the recorded ENCRYPTED_SESSION_KEY,
// and SecureString then encrypts to the recorded <SS> of the pipeline.
func TestReplayMultipleCommandsSessionKey(t *testing.T) {
	s := newReplay(t, "test_psrp_multiple_commands.yml")
	ctx := context.Background()
	s.opts.KeyPair = pypsrpKey(t)
	pool, err := Open(ctx, s.client, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.ExchangeKey(ctx); err != nil {
		t.Fatal(err)
	}
	// The recorded pipeline sets $sec_string to a SecureString; ours for
	// the same text is the same ciphertext (AES-CBC with a zero IV).
	recorded := recordedSecureString(t, s.pipelines[0])
	plain, err := DecryptSecureString(pool.sessionKey, recorded)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := pool.SecureString(ctx, plain)
	if err != nil || ss.Kind != "SS" || ss.Text != recorded {
		t.Errorf("SecureString(%q) = %+v, %v; want <SS>%s</SS>", plain, ss, err, recorded)
	}
	res, err := pool.Invoke(ctx, s.pipelines[0], InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Output) != 7 {
		t.Errorf("got %d outputs, want 7", len(res.Output))
	}
	// The server's own SecureString output decrypts to "abc".
	found := false
	for _, v := range res.Output {
		if v.Kind == "SS" {
			found = true
			if got, err := DecryptSecureString(pool.sessionKey, v.Text); err != nil || got != "abc" {
				t.Errorf("server's SecureString: %q, %v; want abc", got, err)
			}
		}
	}
	if !found {
		t.Error("no SecureString among the recorded outputs")
	}
	if err := pool.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s.done(t)
}

// recordedSecureString returns the <SS> argument of a pipeline.
func recordedSecureString(t *testing.T, p CreatePipeline) string {
	t.Helper()
	for _, st := range p.Statements {
		for _, c := range st {
			for _, a := range c.Parameters {
				if a.Value.Kind == "SS" {
					return a.Value.Text
				}
			}
		}
	}
	t.Fatal("no SecureString in the recorded pipeline")
	return ""
}

// TestReplayCoversEveryRecording makes sure no shared recording is left
// without a replay test.
func TestReplayCoversEveryRecording(t *testing.T) {
	covered := map[string]bool{
		"test_psrp_with_jea_configuration.yml": true, "test_psrp_open_runspace.yml": true,
		"test_psrp_multiple_invocations.yml": true, "test_psrp_with_input.yml": true,
		"test_psrp_long_running_cmdlet.yml": true, "test_psrp_receive_failure.yml": true,
		"test_psrp_small_msg_size.yml": true, "test_psrp_multiple_commands.yml": true,
	}
	for _, f := range recordings(t) {
		name := f[strings.LastIndexByte(f, '/')+1:]
		if !covered[name] {
			t.Errorf("recording %s has no replay test", name)
		}
	}
}
