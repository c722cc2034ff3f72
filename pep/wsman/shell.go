package wsman

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/masterzen/simplexml/dom"
	"github.com/masterzen/winrm/soap"
)

// shellNS is the WinRS shell namespace, prefix rsp.
var shellNS = soap.DOM_NS_WIN_SHELL

// Signal codes.
const (
	// SignalTerminate closes a command after it finished.
	SignalTerminate = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/Terminate"
	// SignalStop stops a running PowerShell pipeline; the plugin spells it
	// crtl_c ([MS-PSRP] 3.1.5.3.9).
	SignalStop = "powershell/signal/crtl_c"
)

// Shell is a WinRS shell that carries a PowerShell runspace pool.
type Shell struct {
	Client *Client
	ID     string
}

// CreateShell creates the shell whose ShellId is the pool's ID, carrying
// the pool's opening PSRP fragments as creationXml. It asks for
// protocolversion 2.3 with MustComply="true" ([MS-PSRP] 3.1.5.3.1) and for
// the client's idle timeout (rsp:IdleTimeOut, before the stream lists as
// [MS-WSMV] 2.2.4.37 orders them).
func (c *Client) CreateShell(ctx context.Context, shellID string, creationXML []byte) (*Shell, error) {
	resp, err := c.Invoke(ctx, Request{
		Action:  ActionCreate,
		Options: []Option{{Name: "protocolversion", Value: "2.3", MustComply: true}},
		Body: func(body *dom.Element) {
			sh := child(body, "Shell", shellNS)
			sh.SetAttr("ShellId", escapeAttr(shellID))
			setText(child(sh, "IdleTimeOut", shellNS), isoDuration(c.idleTimeout()))
			setText(child(sh, "InputStreams", shellNS), "stdin pr")
			setText(child(sh, "OutputStreams", shellNS), "stdout")
			cx := dom.CreateElement("creationXml")
			cx.SetAttr("xmlns", nsPowerShell)
			cx.SetContent(base64.StdEncoding.EncodeToString(creationXML))
			sh.AddChild(cx)
		},
	})
	if err != nil {
		return nil, err
	}
	id := resp.ShellID
	if id == "" {
		return nil, fmt.Errorf("wsman: Create response has no ShellId")
	}
	return &Shell{Client: c, ID: id}, nil
}

// Command starts a pipeline: CommandId is the pipeline ID and args the
// first fragments of CREATE_PIPELINE. It returns the CommandId the server
// echoes.
func (s *Shell) Command(ctx context.Context, commandID string, args []byte) (string, error) {
	resp, err := s.Client.Invoke(ctx, Request{
		Action: ActionCommand, ShellID: s.ID,
		Body: func(body *dom.Element) {
			cl := child(body, "CommandLine", shellNS)
			cl.SetAttr("CommandId", escapeAttr(commandID))
			child(cl, "Command", shellNS)
			child(cl, "Arguments", shellNS).SetContent(base64.StdEncoding.EncodeToString(args))
		},
	})
	if err != nil {
		return "", err
	}
	if resp.CommandID == "" {
		return "", fmt.Errorf("wsman: Command response has no CommandId")
	}
	return resp.CommandID, nil
}

// Send sends fragments on stream (stdin or pr) to a pipeline, or to the pool
// when commandID is empty.
func (s *Shell) Send(ctx context.Context, commandID, stream string, data []byte) error {
	_, err := s.Client.Invoke(ctx, Request{
		Action: ActionSend, ShellID: s.ID,
		Body: func(body *dom.Element) {
			st := child(child(body, "Send", shellNS), "Stream", shellNS)
			st.SetAttr("Name", escapeAttr(stream))
			if commandID != "" {
				st.SetAttr("CommandId", escapeAttr(commandID))
			}
			st.SetContent(base64.StdEncoding.EncodeToString(data))
		},
	})
	return err
}

// Receive polls the stdout stream of a pipeline, or of the pool when
// commandID is empty. A response with NoData set means nothing arrived
// within the OperationTimeout.
func (s *Shell) Receive(ctx context.Context, commandID string) (*Response, error) {
	return s.Client.Invoke(ctx, Request{
		Action: ActionReceive, ShellID: s.ID,
		Options: []Option{{Name: "WSMAN_CMDSHELL_OPTION_KEEPALIVE", Value: "TRUE"}},
		Body: func(body *dom.Element) {
			ds := child(child(body, "Receive", shellNS), "DesiredStream", shellNS)
			if commandID != "" {
				ds.SetAttr("CommandId", escapeAttr(commandID))
			}
			setText(ds, "stdout")
		},
	})
}

// Signal sends a signal code to a pipeline.
func (s *Shell) Signal(ctx context.Context, commandID, code string) error {
	_, err := s.Client.Invoke(ctx, Request{
		Action: ActionSignal, ShellID: s.ID,
		Body: func(body *dom.Element) {
			sig := child(body, "Signal", shellNS)
			sig.SetAttr("CommandId", escapeAttr(commandID))
			setText(child(sig, "Code", shellNS), code)
		},
	})
	return err
}

// Delete deletes the shell, closing the runspace pool.
func (s *Shell) Delete(ctx context.Context) error {
	_, err := s.Client.Invoke(ctx, Request{Action: ActionDelete, ShellID: s.ID})
	return err
}
