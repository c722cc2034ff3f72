package ui

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/azs-courier/azs-courier/app"
)

// reviewCard shows an artefact's decoded fields with the SHA-256 in groups
// of four, large enough to read aloud.
func reviewCard(v *app.ArtefactView) fyne.CanvasObject {
	form := widget.NewForm()
	for _, f := range v.Fields {
		if f.Label == "SHA-256" || f.Label == "Kind" {
			continue
		}
		l := widget.NewLabel(f.Value)
		l.Wrapping = fyne.TextWrapWord
		form.Append(f.Label, l)
	}
	hash := widget.NewLabelWithStyle(v.SHA256Groups(), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	hash.Wrapping = fyne.TextWrapWord
	title := widget.NewLabelWithStyle(capitalize(v.Kind.Title()), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewVBox(title,
		widget.NewLabel("SHA-256 (read it aloud to the person on the other side; it must match theirs):"),
		hash, widget.NewSeparator(), form)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// exportPanel saves an artefact: to a removable drive or a chosen folder
// (drives listed first), with QR PNGs and the A4 sheet on request, and shows
// the codes on screen.
type exportPanel struct {
	u        *UI
	svc      *app.Service
	artefact *app.ArtefactView

	Places    *widget.RadioGroup
	Choose    *widget.Button
	QRFiles   *widget.Check
	Sheet     *widget.Check
	Save      *widget.Button
	ShowQR    *widget.Button
	Result    *widget.Label
	OpenSheet *widget.Button // opens the saved A4 sheet in the system's viewer, to print it
	sheet     string
	task      *taskPanel
	Player    *qrPlayer
	playerBox *fyne.Container

	places []string // paths, in the order of Places.Options
	box    *fyne.Container

	// Saved is called on the UI thread after a successful save.
	Saved func(app.ExportResult)
}

func newExportPanel(u *UI, svc *app.Service) *exportPanel {
	e := &exportPanel{u: u, svc: svc, task: newTaskPanel(u.thread), Result: widget.NewLabel("")}
	e.Result.Wrapping = fyne.TextWrapWord
	e.Places = widget.NewRadioGroup(nil, nil)
	e.Choose = widget.NewButtonWithIcon("Choose folder…", theme.FolderOpenIcon(), e.onChoose)
	e.QRFiles = widget.NewCheck("Also save the QR codes as PNG images", nil)
	e.QRFiles.SetChecked(true)
	e.Sheet = widget.NewCheck("Also save the printable A4 sheet (PDF)", nil)
	e.Save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), e.onSave)
	e.Save.Importance = widget.HighImportance
	e.ShowQR = widget.NewButtonWithIcon("Show QR codes", theme.VisibilityIcon(), e.onShowQR)
	e.OpenSheet = widget.NewButtonWithIcon("Open the A4 sheet to print", theme.DocumentPrintIcon(), e.onOpenSheet)
	e.OpenSheet.Hide()
	e.playerBox = container.NewVBox()
	// The codes show beside the save options, so that both fit the window.
	e.box = container.NewBorder(nil, nil, nil, e.playerBox, container.NewVBox(
		widget.NewLabelWithStyle("Save to", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		e.Places, e.Choose, e.QRFiles, e.Sheet,
		container.NewHBox(e.Save, e.ShowQR),
		e.task.Object(), e.Result, container.NewHBox(e.OpenSheet),
	))
	return e
}

// Object returns the panel's widget tree.
func (e *exportPanel) Object() fyne.CanvasObject { return e.box }

// SetArtefact sets what to export and refreshes the list of places.
func (e *exportPanel) SetArtefact(v *app.ArtefactView) {
	e.artefact = v
	e.Result.SetText("")
	e.sheet = ""
	e.OpenSheet.Hide()
	e.stopPlayer()
	e.refreshPlaces("")
}

func (e *exportPanel) refreshPlaces(selected string) {
	e.places = nil
	var labels []string
	add := func(path, label string) {
		for _, p := range e.places {
			if p == path {
				return
			}
		}
		e.places = append(e.places, path)
		labels = append(labels, label)
	}
	for _, d := range e.svc.Drives() {
		add(d.Path, "Removable drive: "+d.Label+" ("+d.Path+")")
	}
	if last := e.u.prefs().String(prefExportFolder); last != "" {
		add(last, "Last folder: "+last)
	}
	if selected != "" {
		add(selected, "Folder: "+selected)
	}
	e.Places.Options = labels
	e.Places.Selected = ""
	if selected == "" && len(e.places) > 0 {
		selected = e.places[0]
	}
	for i, p := range e.places {
		if p == selected {
			e.Places.Selected = labels[i]
		}
	}
	e.Places.Refresh()
}

// SelectFolder chooses dir as the place to save to (the folder dialog's
// answer; tests call it directly).
func (e *exportPanel) SelectFolder(dir string) { e.refreshPlaces(dir) }

func (e *exportPanel) selectedDir() string {
	for i, l := range e.Places.Options {
		if l == e.Places.Selected {
			return e.places[i]
		}
	}
	return ""
}

func (e *exportPanel) onChoose() {
	d := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			return
		}
		e.SelectFolder(dir.Path())
	}, e.u.win)
	if last := e.u.prefs().String(prefExportFolder); last != "" {
		if l, err := storage.ListerForURI(storage.NewFileURI(last)); err == nil {
			d.SetLocation(l)
		}
	}
	d.Show()
}

func (e *exportPanel) onSave() {
	dir := e.selectedDir()
	req := app.ExportRequest{Artefact: e.artefact, Dir: dir, QR: e.QRFiles.Checked, Sheet: e.Sheet.Checked}
	e.Save.Disable()
	e.Result.SetText("")
	e.task.run(e.u.ctx, "Saving the "+e.artefact.Kind.Title(), false, func(ctx context.Context, progress func(app.Event)) error {
		res, err := e.svc.Export(ctx, req, progress)
		if err == nil {
			e.u.thread.Do(func() { e.showResult(res) })
		}
		return err
	}, func(err error) {
		e.Save.Enable()
		if err == nil && dir != "" && !e.isDrive(dir) {
			e.u.prefs().SetString(prefExportFolder, dir)
		}
	})
}

func (e *exportPanel) isDrive(dir string) bool {
	for _, d := range e.svc.Drives() {
		if d.Path == dir {
			return true
		}
	}
	return false
}

func (e *exportPanel) showResult(res app.ExportResult) {
	lines := []string{"Saved and read back: " + res.File, "Manifest: " + filepath.Base(res.Manifest)}
	if len(res.QRFiles) > 0 {
		lines = append(lines, fmt.Sprintf("%d QR image(s) in %s", len(res.QRFiles), filepath.Dir(res.QRFiles[0])))
	}
	if res.Sheet != "" {
		lines = append(lines, "A4 sheet: "+res.Sheet+" (print it at 100 %)")
	}
	e.Result.SetText(strings.Join(lines, "\n"))
	e.sheet = res.Sheet
	if res.Sheet != "" {
		e.OpenSheet.Show()
	} else {
		e.OpenSheet.Hide()
	}
	if e.Saved != nil {
		e.Saved(res)
	}
}

func (e *exportPanel) onOpenSheet() {
	if e.sheet == "" {
		return
	}
	p := filepath.ToSlash(e.sheet)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // C:/… on Windows
	}
	u := &url.URL{Scheme: "file", Path: p}
	if err := e.u.fyneApp.OpenURL(u); err != nil {
		e.task.showError(fmt.Errorf("open %s: %w; open it from the folder and print it at 100 %%", e.sheet, err))
	}
}

func (e *exportPanel) onShowQR() {
	if e.Player != nil {
		e.stopPlayer()
		return
	}
	codes, err := e.artefact.QRCodes()
	if err != nil {
		e.task.showError(err)
		return
	}
	e.Player = newQRPlayer(e.u.thread, codes, e.u.prefs().FloatWithFallback(prefQRSpeed, 2), func(speed float64) {
		e.u.prefs().SetFloat(prefQRSpeed, speed)
	})
	e.playerBox.Objects = []fyne.CanvasObject{e.Player.Object()}
	e.playerBox.Refresh()
	e.ShowQR.SetText("Hide QR codes")
	e.Player.Play()
}

func (e *exportPanel) stopPlayer() {
	if e.Player != nil {
		e.Player.Stop()
		e.Player = nil
	}
	e.playerBox.Objects = nil
	e.playerBox.Refresh()
	e.ShowQR.SetText("Show QR codes")
}

// qrPlayer shows an artefact's QR codes animated at an adjustable speed,
// with pause and step, or one by one.
type qrPlayer struct {
	th      *uiThread
	codes   *app.QRCodes
	Image   *canvas.Image
	Caption *widget.Label
	Speed   *widget.Slider
	Pause   *widget.Button
	Prev    *widget.Button
	Next    *widget.Button
	box     *fyne.Container

	images   map[int]image.Image // codes drawn so far, by index in the loop
	captions map[int]string

	mu      sync.Mutex
	tick    int
	playing bool
	speed   float64
	stop    chan struct{}
	done    bool
}

const qrSize = 300

func newQRPlayer(th *uiThread, codes *app.QRCodes, speed float64, saveSpeed func(float64)) *qrPlayer {
	if speed < 0.5 || speed > 10 {
		speed = 2
	}
	p := &qrPlayer{th: th, codes: codes, speed: speed, Caption: widget.NewLabel(""),
		images: map[int]image.Image{}, captions: map[int]string{}}
	p.Image = canvas.NewImageFromImage(image.NewGray(image.Rect(0, 0, 1, 1)))
	p.Image.FillMode = canvas.ImageFillContain
	p.Image.ScaleMode = canvas.ImageScalePixels
	p.Image.SetMinSize(fyne.NewSize(qrSize, qrSize))
	p.Caption.Alignment = fyne.TextAlignCenter
	p.Speed = widget.NewSlider(0.5, 10)
	p.Speed.Step = 0.5
	p.Speed.SetValue(speed)
	p.Speed.OnChangeEnded = func(v float64) {
		p.mu.Lock()
		p.speed = v
		p.mu.Unlock()
		if saveSpeed != nil {
			saveSpeed(v)
		}
		p.restart()
	}
	p.Pause = widget.NewButtonWithIcon("Pause", theme.MediaPauseIcon(), p.onPause)
	p.Prev = widget.NewButtonWithIcon("", theme.MediaSkipPreviousIcon(), func() { p.step(-1) })
	p.Next = widget.NewButtonWithIcon("", theme.MediaSkipNextIcon(), func() { p.step(1) })
	// A white card keeps the quiet zone light in the dark theme too.
	card := container.NewStack(canvas.NewRectangle(color.White), p.Image)
	p.box = container.NewVBox(
		container.NewCenter(card), p.Caption,
		container.NewBorder(nil, nil, container.NewHBox(p.Prev, p.Pause, p.Next), widget.NewLabel("codes/s"), p.Speed),
	)
	p.show(0)
	return p
}

// Object returns the player's widget tree.
func (p *qrPlayer) Object() fyne.CanvasObject { return p.box }

// show puts the code of tick n on screen (UI thread).
func (p *qrPlayer) show(n int) {
	i := ((n % p.codes.Len()) + p.codes.Len()) % p.codes.Len()
	img, caption := p.images[i], p.captions[i]
	if img == nil {
		var err error
		img, caption, err = p.codes.Image(i, qrSize)
		if err != nil {
			p.Caption.SetText(err.Error())
			return
		}
		p.images[i], p.captions[i] = img, caption
	}
	p.Image.Image = img
	p.Image.Refresh()
	if p.codes.Len() > 1 {
		caption += fmt.Sprintf("  (%d codes in a loop)", p.codes.Len())
	}
	p.Caption.SetText(caption)
}

// ShowTick renders the code of tick n; the animation calls it on each tick.
func (p *qrPlayer) ShowTick(n int) { p.show(n) }

// Play starts the animation.
func (p *qrPlayer) Play() {
	p.mu.Lock()
	p.playing = true
	p.mu.Unlock()
	p.Pause.SetText("Pause")
	p.Pause.SetIcon(theme.MediaPauseIcon())
	p.restart()
}

func (p *qrPlayer) restart() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
	if !p.playing || p.done || p.codes.Len() < 2 {
		return
	}
	stop := make(chan struct{})
	p.stop = stop
	interval := time.Duration(float64(time.Second) / p.speed)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p.th.Do(func() {
					p.mu.Lock()
					if p.stop != stop {
						p.mu.Unlock()
						return
					}
					p.tick++
					n := p.tick
					p.mu.Unlock()
					p.show(n)
				})
			}
		}
	}()
}

func (p *qrPlayer) onPause() {
	p.mu.Lock()
	playing := p.playing
	p.mu.Unlock()
	if playing {
		p.pause()
		return
	}
	p.Play()
}

func (p *qrPlayer) pause() {
	p.mu.Lock()
	p.playing = false
	p.mu.Unlock()
	p.restart()
	p.Pause.SetText("Play")
	p.Pause.SetIcon(theme.MediaPlayIcon())
}

// step pauses and moves by d codes: one by one.
func (p *qrPlayer) step(d int) {
	p.pause()
	p.mu.Lock()
	p.tick += d
	n := p.tick
	p.mu.Unlock()
	p.show(n)
}

// Tick returns the current tick.
func (p *qrPlayer) Tick() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tick
}

// Stop ends the animation for good.
func (p *qrPlayer) Stop() {
	p.mu.Lock()
	p.done = true
	p.mu.Unlock()
	p.restart()
}

// importPanel reads an artefact the ways people carry it: a dropped file,
// the open dialog, a paste, or QR images and page scans.
type importPanel struct {
	u    *UI
	svc  *app.Service
	want app.ArtefactKind

	Open    *widget.Button
	Paste   *widget.Entry
	Read    *widget.Button
	AddQR   *widget.Button
	QRState *widget.Label
	task    *taskPanel
	box     *fyne.Container

	qrFiles []string

	// Imported is called on the UI thread with the artefact read.
	Imported func(*app.ArtefactView)
}

func newImportPanel(u *UI, svc *app.Service, want app.ArtefactKind) *importPanel {
	p := &importPanel{u: u, svc: svc, want: want, task: newTaskPanel(u.thread), QRState: widget.NewLabel("")}
	p.Open = widget.NewButtonWithIcon("Open file…", theme.FolderOpenIcon(), p.onOpen)
	p.Open.Importance = widget.HighImportance
	p.Paste = widget.NewMultiLineEntry()
	p.Paste.SetPlaceHolder("…or paste the " + want.Title() + " here")
	p.Paste.Wrapping = fyne.TextWrapBreak
	p.Paste.SetMinRowsVisible(3)
	p.Read = widget.NewButtonWithIcon("Read pasted text", theme.ContentPasteIcon(), p.onPaste)
	p.AddQR = widget.NewButtonWithIcon("Add QR images…", theme.MediaPhotoIcon(), p.onAddQR)
	p.QRState.Wrapping = fyne.TextWrapWord
	p.box = container.NewVBox(
		widget.NewLabel("Drop the "+want.Title()+" file on this window, open it, paste it, or read its QR codes (images or page scans, any order)."),
		container.NewHBox(p.Open, p.AddQR),
		p.Paste, container.NewHBox(p.Read),
		p.QRState, p.task.Object(),
	)
	return p
}

// Object returns the panel's widget tree.
func (p *importPanel) Object() fyne.CanvasObject { return p.box }

func (p *importPanel) lastFolder() fyne.ListableURI {
	if last := p.u.prefs().String(prefImportFolder); last != "" {
		if l, err := storage.ListerForURI(storage.NewFileURI(last)); err == nil {
			return l
		}
	}
	return nil
}

func (p *importPanel) onOpen() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		p.ImportFile(path)
	}, p.u.win)
	if l := p.lastFolder(); l != nil {
		d.SetLocation(l)
	}
	d.Show()
}

// Dropped handles files dropped on the window: images are QR codes, other
// files are read as the artefact.
func (p *importPanel) Dropped(paths []string) {
	var images []string
	for _, path := range paths {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".png", ".jpg", ".jpeg":
			images = append(images, path)
		default:
			p.ImportFile(path)
			return
		}
	}
	if len(images) > 0 {
		p.AddQRFiles(images)
	}
}

// ImportFile reads the artefact in the file at path.
func (p *importPanel) ImportFile(path string) {
	p.u.prefs().SetString(prefImportFolder, filepath.Dir(path))
	p.start("Reading "+filepath.Base(path), func(ctx context.Context, progress func(app.Event)) (*app.ArtefactView, error) {
		return p.svc.ImportFile(ctx, path, p.want)
	})
}

func (p *importPanel) onPaste() {
	text := p.Paste.Text
	p.start("Reading the pasted text", func(ctx context.Context, progress func(app.Event)) (*app.ArtefactView, error) {
		return p.svc.ImportText(ctx, text, p.want)
	})
}

func (p *importPanel) onAddQR() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		p.AddQRFiles([]string{path})
	}, p.u.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".png", ".jpg", ".jpeg", ".txt"}))
	if l := p.lastFolder(); l != nil {
		d.SetLocation(l)
	}
	d.Show()
}

// AddQRFiles adds QR images (or frame files) and tries to reassemble the
// artefact from every image added so far.
func (p *importPanel) AddQRFiles(paths []string) {
	if len(paths) > 0 {
		p.u.prefs().SetString(prefImportFolder, filepath.Dir(paths[0]))
	}
	p.qrFiles = append(p.qrFiles, paths...)
	files := append([]string(nil), p.qrFiles...)
	p.start("Reading the QR codes", func(ctx context.Context, progress func(app.Event)) (*app.ArtefactView, error) {
		v, st, err := p.svc.ImportQR(ctx, files, p.want, progress)
		p.u.thread.Do(func() {
			switch {
			case st.Parts == 0:
				p.QRState.SetText("")
			case len(st.Missing) == 0:
				p.QRState.SetText(fmt.Sprintf("QR codes: all %d parts read.", st.Parts))
			default:
				p.QRState.SetText(fmt.Sprintf("QR codes: %d of %d parts read; still missing part(s) %s. Add more images.",
					len(st.Found), st.Parts, joinInts(st.Missing)))
			}
		})
		return v, err
	})
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

func (p *importPanel) start(title string, work func(context.Context, func(app.Event)) (*app.ArtefactView, error)) {
	var got *app.ArtefactView
	p.task.run(p.u.ctx, title, false, func(ctx context.Context, progress func(app.Event)) error {
		v, err := work(ctx, progress)
		got = v
		return err
	}, func(err error) {
		if err == nil && got != nil {
			p.qrFiles = nil
			if p.Imported != nil {
				p.Imported(got)
			}
		}
	})
}
