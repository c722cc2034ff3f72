package ui

import (
	"context"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/azs-courier/azs-courier/app"
	"github.com/azs-courier/azs-courier/internal/testutil"
)

// BenchmarkQRFrame is one frame of the animated QR view with the 4-node
// activation key: put the next code up and paint the window with Fyne's
// software painter.
func BenchmarkQRFrame(b *testing.B) {
	a := test.NewTempApp(b)
	env := app.SystemEnv(app.BuildInfo{Version: "bench"})
	env.ConfigDir = filepath.Join(b.TempDir(), "config")
	svc := app.NewService(env)
	v, err := svc.ImportText(context.Background(), string(testutil.ReadShared(b, "tokens", "activation-key-4node.txt")), app.KindKey)
	if err != nil {
		b.Fatal(err)
	}
	codes, err := v.QRCodes()
	if err != nil {
		b.Fatal(err)
	}
	w := test.NewTempWindow(b, nil)
	u := &UI{fyneApp: a, win: w, thread: &uiThread{}}
	p := newQRPlayer(u.thread, codes, qrSize, 2, nil)
	w.SetContent(p.Object())
	w.Resize(fyne.NewSize(480, 480))
	n := 0
	for b.Loop() {
		n++
		p.ShowTick(n)
		w.Canvas().Capture()
	}
	b.ReportMetric(float64(codes.Len()), "codes")
}
