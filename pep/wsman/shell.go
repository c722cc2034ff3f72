package wsman

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/masterzen/simplexml/dom"
	"github.com/masterzen/winrm/soap"
)

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
// protocolversion 2.3. masterzen's soap package cannot put MustComply on an
// Option; the PowerShell plugin only requires the option's name, so none is
// sent (psrp-winrm.md §1.5).
func (c *Client) CreateShell(ctx context.Context, shellID string, creationXML []byte) (*Shell, error) {
	resp, err := c.Invoke(ctx, Request{
		Action:  ActionCreate,
		Options: []Option{{"protocolversion", "2.3"}},
		Body: func(m *soap.SoapMessage) {
			sh := m.CreateBodyElement("Shell", soap.DOM_NS_WIN_SHELL)
			sh.SetAttr("ShellId", shellID)
			m.CreateElement(sh, "InputStreams", soap.DOM_NS_WIN_SHELL).SetContent("stdin pr")
			m.CreateElement(sh, "OutputStreams", soap.DOM_NS_WIN_SHELL).SetContent("stdout")
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
		Body: func(m *soap.SoapMessage) {
			cl := m.CreateBodyElement("CommandLine", soap.DOM_NS_WIN_SHELL)
			cl.SetAttr("CommandId", commandID)
			m.CreateElement(cl, "Command", soap.DOM_NS_WIN_SHELL)
			m.CreateElement(cl, "Arguments", soap.DOM_NS_WIN_SHELL).SetContent(base64.StdEncoding.EncodeToString(args))
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
		Body: func(m *soap.SoapMessage) {
			send := m.CreateBodyElement("Send", soap.DOM_NS_WIN_SHELL)
			st := m.CreateElement(send, "Stream", soap.DOM_NS_WIN_SHELL)
			st.SetAttr("Name", stream)
			if commandID != "" {
				st.SetAttr("CommandId", commandID)
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
		Options: []Option{{"WSMAN_CMDSHELL_OPTION_KEEPALIVE", "TRUE"}},
		Body: func(m *soap.SoapMessage) {
			r := m.CreateBodyElement("Receive", soap.DOM_NS_WIN_SHELL)
			ds := m.CreateElement(r, "DesiredStream", soap.DOM_NS_WIN_SHELL)
			if commandID != "" {
				ds.SetAttr("CommandId", commandID)
			}
			ds.SetContent("stdout")
		},
	})
}

// Signal sends a signal code to a pipeline.
func (s *Shell) Signal(ctx context.Context, commandID, code string) error {
	_, err := s.Client.Invoke(ctx, Request{
		Action: ActionSignal, ShellID: s.ID,
		Body: func(m *soap.SoapMessage) {
			sig := m.CreateBodyElement("Signal", soap.DOM_NS_WIN_SHELL)
			sig.SetAttr("CommandId", commandID)
			m.CreateElement(sig, "Code", soap.DOM_NS_WIN_SHELL).SetContent(code)
		},
	})
	return err
}

// Delete deletes the shell, closing the runspace pool.
func (s *Shell) Delete(ctx context.Context) error {
	_, err := s.Client.Invoke(ctx, Request{Action: ActionDelete, ShellID: s.ID})
	return err
}
