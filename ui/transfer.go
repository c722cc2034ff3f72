package ui

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"net/url"
	"os"
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
	FileName  *widget.Entry  // the artefact's file name in the chosen place
	Replace   *widget.Button // shown when the file exists: asks, then replaces
	Exists    *widget.Label  // what lies there already
	Where     *widget.Label  // the whole path of the chosen place
	QRFiles   *widget.Check
	Sheet     *widget.Check
	Save      *widget.Button
	ShowQR    *widget.Button
	Result    *widget.Label
	OpenSheet *widget.Button // opens the saved A4 sheet in the system's viewer, to print it
	sheet     string

	// The release review, recorded in the manifest and the ledger; the site
	// policy may require it.
	Reviewers  *widget.Entry // one name a line
	Ticket     *widget.Entry
	Media      *widget.Entry
	PolicyNote *widget.Label  // what the site policy asks, if there is one
	Custody    *widget.Button // prints the custody sheet of the file saved
	task       *taskPanel
	Player     *qrPlayer
	qrDialog   dialog.Dialog // the codes, over the window, while shown

	places  []string // paths, in the order of Places.Options
	saved   string   // the file last saved, while the target is still it
	box     *fyne.Container
	actions *fyne.Container

	// Saved is called on the UI thread after a successful save.
	Saved func(app.ExportResult)
}

func newExportPanel(u *UI, svc *app.Service) *exportPanel {
	e := &exportPanel{u: u, svc: svc, task: newTaskPanel(u.thread), Result: widget.NewLabel(""), Exists: widget.NewLabel(""), Where: widget.NewLabel("")}
	e.Where.Wrapping = fyne.TextWrapBreak
	e.task.After = u.refreshStatus
	e.Result.Wrapping = fyne.TextWrapWord
	e.Exists.Wrapping = fyne.TextWrapWord
	e.Places = widget.NewRadioGroup(nil, func(string) { e.checkTarget() })
	e.Choose = widget.NewButtonWithIcon("Choose folder…", theme.FolderOpenIcon(), e.onChoose)
	e.FileName = widget.NewEntry()
	e.FileName.OnChanged = func(string) { e.checkTarget() }
	e.Replace = widget.NewButtonWithIcon("Replace…", theme.ViewRefreshIcon(), e.onReplace)
	e.Replace.Importance = widget.WarningImportance
	e.Replace.Hide()
	e.QRFiles = widget.NewCheck("Also save the QR codes as PNG images", nil)
	e.QRFiles.SetChecked(true)
	e.Sheet = widget.NewCheck("Also save the printable A4 sheet (PDF)", nil)
	e.Save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), e.onSave)
	e.Save.Importance = widget.HighImportance
	e.ShowQR = widget.NewButtonWithIcon("Show QR codes", theme.VisibilityIcon(), e.onShowQR)
	e.OpenSheet = widget.NewButtonWithIcon("Print the A4 QR sheet", theme.DocumentPrintIcon(), e.onOpenSheet)
	e.OpenSheet.Hide()
	e.Custody = widget.NewButtonWithIcon("Print the custody sheet", theme.DocumentIcon(), e.onCustody)
	e.Custody.Hide()
	e.Reviewers = widget.NewMultiLineEntry()
	e.Reviewers.SetPlaceHolder("one name a line")
	e.Reviewers.SetMinRowsVisible(2)
	e.Ticket = widget.NewEntry()
	e.Ticket.SetPlaceHolder("e.g. CHG-4711")
	e.Media = widget.NewEntry()
	e.Media.SetPlaceHolder("the drive's label and serial, when it is a removable drive")
	for _, en := range []*widget.Entry{e.Reviewers, e.Ticket, e.Media} {
		en.OnChanged = func(string) { e.checkTarget() }
	}
	e.QRFiles.OnChanged = func(bool) { e.checkTarget() }
	e.Sheet.OnChanged = func(bool) { e.checkTarget() }
	e.PolicyNote = widget.NewLabel("")
	e.PolicyNote.Wrapping = fyne.TextWrapWord
	e.box = container.NewVBox(
		widget.NewLabelWithStyle("Save to", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		e.Places, e.Where, e.Choose,
		widget.NewForm(widget.NewFormItem("File name", e.FileName)),
		e.QRFiles, e.Sheet,
		widget.NewLabelWithStyle("Release review", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		e.PolicyNote,
		widget.NewForm(widget.NewFormItem("Reviewed by", e.Reviewers), widget.NewFormItem("Change ticket", e.Ticket), widget.NewFormItem("Medium", e.Media)),
		e.task.More(),
	)
	e.actions = container.NewVBox(container.NewHBox(e.Save, e.Replace, e.ShowQR, e.OpenSheet, e.Custody), e.Exists, e.Result, e.task.Status())
	return e
}

// Object returns the panel's options, for the scrolling part of a step.
func (e *exportPanel) Object() fyne.CanvasObject { return e.box }

// Actions returns Save, Replace and Show QR codes with what they report,
// for the step's footer where they stay in view.
func (e *exportPanel) Actions() fyne.CanvasObject { return e.actions }

// SetArtefact sets what to export and refreshes the list of places.
func (e *exportPanel) SetArtefact(v *app.ArtefactView) {
	e.artefact = v
	e.saved = ""
	setShown(e.Result, "")
	e.sheet = ""
	e.OpenSheet.Hide()
	e.Custody.Hide()
	e.PolicyNote.SetText(policyNote(e.svc))
	e.task.Reset() // the last artefact's "done" is not this one's
	e.stopPlayer()
	if v != nil {
		e.FileName.SetText(v.Kind.FileName())
	}
	e.refreshPlaces("")
}

// target returns the path the artefact would be saved to.
func (e *exportPanel) target() string {
	dir, name := e.selectedDir(), strings.TrimSpace(e.FileName.Text)
	if dir == "" || name == "" {
		return ""
	}
	return filepath.Join(dir, name)
}

// checkTarget says when the file exists already and offers to replace it;
// Save then stays for a new name.
func (e *exportPanel) checkTarget() {
	if dir := e.selectedDir(); dir != "" {
		e.Where.SetText("Saves into " + dir)
	} else {
		e.Where.SetText("")
	}
	name := strings.TrimSpace(e.FileName.Text)
	switch {
	case name == "":
		setShown(e.Exists, "Enter a file name.")
		e.Save.Disable()
		e.Replace.Hide()
		return
	case strings.ContainsAny(name, `/\:*?"<>|`) || name == "." || name == "..":
		setShown(e.Exists, "The file name cannot hold / \\ : * ? \" < > or |.")
		e.Save.Disable()
		e.Replace.Hide()
		return
	}
	if t := e.target(); t != "" && t == e.saved {
		setShown(e.Exists, "")
		e.Replace.Hide()
		e.Save.Disable() // saved here just now; another name saves another copy
		return
	}
	if err := e.checkPolicy(e.routes()...); err != nil {
		setShown(e.Exists, app.Explain(err).Sentence())
		e.Save.Disable()
		e.Replace.Hide()
		return
	}
	if x, ok := app.Existing(e.target()); ok {
		setShown(e.Exists, fmt.Sprintf("%s already exists there: %s written %s. Enter another file name, or replace it.",
			name, x.What, app.FormatTime(x.Written)))
		e.Save.Disable()
		e.Replace.Show()
		return
	}
	setShown(e.Exists, "")
	e.Replace.Hide()
	if !e.task.Running() {
		e.Save.Enable()
	}
}

// onReplace asks, naming what would be replaced, then saves over it.
func (e *exportPanel) onReplace() {
	x, ok := app.Existing(e.target())
	if !ok {
		e.checkTarget()
		return
	}
	msg := fmt.Sprintf("%s holds %s, written %s.", x.Path, x.What, app.FormatTime(x.Written))
	if x.SHA256 != "" {
		msg += "\nSHA-256 " + app.GroupHash(x.SHA256)
	}
	msg += fmt.Sprintf("\n\nReplace it, and its manifest, with this %s (SHA-256 %s)?", e.artefact.Kind.Title(), e.artefact.SHA256Groups())
	dialog.ShowConfirm("Replace "+filepath.Base(x.Path)+"?", msg, func(yes bool) {
		if yes {
			e.save(true)
		}
	}, e.u.win)
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
		add(d.Path, "Drive: "+d.Title())
	}
	if last := e.u.prefs().String(prefExportFolder); last != "" {
		add(last, "Last folder: "+shortPath(last))
	}
	if selected != "" {
		add(selected, "Folder: "+shortPath(selected))
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
	e.checkTarget()
}

// shortPath keeps the end of a long path, which names the folder, for a
// one-line choice; the whole path shows below the choices.
func shortPath(p string) string {
	r := []rune(p)
	if len(r) <= 40 {
		return p
	}
	return "…" + string(r[len(r)-39:])
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

// setShown sets l's text and hides it while it is empty, so that an empty
// message takes no room in a step's footer.
func setShown(l *widget.Label, text string) {
	l.SetText(text)
	if text == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

// review returns the release review as entered.
func (e *exportPanel) review() app.Review {
	return app.Review{Reviewers: strings.Split(e.Reviewers.Text, "\n"), Ticket: e.Ticket.Text, Media: e.Media.Text}
}

// routes returns the routes a save takes with the options chosen.
func (e *exportPanel) routes() []string {
	rs := []string{app.RouteFile}
	if e.QRFiles.Checked {
		rs = append(rs, app.RouteQRScreen)
	}
	if e.Sheet.Checked {
		rs = append(rs, app.RoutePaper)
	}
	return rs
}

// checkPolicy asks the site policy about a release by routes with the
// review entered.
func (e *exportPanel) checkPolicy(routes ...string) error {
	for _, r := range routes {
		if err := e.svc.CheckRelease(r, e.review(), e.target()); err != nil {
			return err
		}
	}
	return nil
}

// policyNote says what the site policy asks of a release, or that there
// is none.
func policyNote(svc *app.Service) string {
	p, err := svc.Policy()
	switch {
	case err != nil:
		return app.Explain(err).Sentence()
	case p.Path == "":
		return "No site policy applies: the review is recorded when given."
	}
	var needs []string
	if p.MinReviewers > 0 {
		needs = append(needs, fmt.Sprintf("%d reviewer(s)", p.MinReviewers))
	}
	if p.RequireTicket {
		needs = append(needs, "a change ticket")
	}
	if p.RequireMedia {
		needs = append(needs, "the medium's ID")
	}
	s := "The site policy (" + p.Path + ") allows " + strings.Join(p.Routes, ", ")
	if len(needs) > 0 {
		s += " and needs " + strings.Join(needs, ", ")
	}
	return s + "."
}

func (e *exportPanel) onSave() { e.save(false) }

func (e *exportPanel) save(replace bool) {
	dir := e.selectedDir()
	req := app.ExportRequest{Artefact: e.artefact, Dir: dir, FileName: strings.TrimSpace(e.FileName.Text),
		QR: e.QRFiles.Checked, Sheet: e.Sheet.Checked, Force: replace, Review: e.review()}
	e.Save.Disable()
	e.Replace.Hide()
	setShown(e.Result, "")
	e.task.run(e.u.ctx, "Saving the "+e.artefact.Kind.Title(), false, func(ctx context.Context, progress func(app.Event)) error {
		res, err := e.svc.Export(ctx, req, progress)
		if err == nil {
			e.u.thread.Do(func() { e.saved = res.File; e.showResult(res) })
		}
		return err
	}, func(err error) {
		e.checkTarget()
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
	// One short paragraph: it shows in the step's footer, beside the
	// buttons to print the sheets, where it stays in view.
	parts := []string{"its manifest"}
	if len(res.QRFiles) > 0 {
		parts = append(parts, fmt.Sprintf("%d QR images in %s", len(res.QRFiles), filepath.Base(filepath.Dir(res.QRFiles[0]))))
	}
	if res.Sheet != "" {
		parts = append(parts, "the A4 sheet "+filepath.Base(res.Sheet)+" (print it at 100 %)")
	}
	setShown(e.Result, "Saved and read back: "+res.File+", with "+strings.Join(parts, ", ")+".")
	e.sheet = res.Sheet
	if res.Sheet != "" {
		e.OpenSheet.Show()
	} else {
		e.OpenSheet.Hide()
	}
	e.Custody.Show()
	if e.Saved != nil {
		e.Saved(res)
	}
}

func (e *exportPanel) onOpenSheet() {
	if e.sheet == "" {
		return
	}
	if err := openFile(e.u, e.sheet); err != nil {
		e.task.showError(err)
	}
}

// onCustody writes the custody sheet of the file just saved beside it and
// opens it to print.
func (e *exportPanel) onCustody() {
	if e.saved == "" {
		return
	}
	printCustodySheet(e.u, e.svc, e.task, e.saved, e.Result)
}

// openFile opens path in the system's viewer.
func openFile(u *UI, path string) error {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // C:/… on Windows
	}
	if err := u.fyneApp.OpenURL(&url.URL{Scheme: "file", Path: p}); err != nil {
		return fmt.Errorf("open %s: %w; open it from the folder and print it at 100 %%", path, err)
	}
	return nil
}

// onShowQR shows the codes over the window, as large as it allows, for a
// phone or scanner to read; Close (or Show QR codes again) ends it.
func (e *exportPanel) onShowQR() {
	if e.Player != nil {
		e.stopPlayer()
		return
	}
	if err := e.checkPolicy(app.RouteQRScreen); err != nil {
		e.task.showError(err)
		return
	}
	codes, err := e.artefact.QRCodes()
	if err != nil {
		e.task.showError(err)
		return
	}
	win := e.u.win.Canvas().Size()
	dw, dh := max(min(win.Width*0.95, 760), 380), max(min(win.Height*0.95, 800), 500)
	// The codes take what the dialog leaves beside its title, caption,
	// controls and hint.
	size := int(min(dw-60, dh-230))
	e.Player = newQRPlayer(e.u.thread, codes, size, e.u.prefs().FloatWithFallback(prefQRSpeed, 2), func(speed float64) {
		e.u.prefs().SetFloat(prefQRSpeed, speed)
	})
	hint := note("Point the phone or scanner at the codes; they change on their own. Pause and step through them if the reader needs time.")
	body := container.NewBorder(nil, hint, nil, nil, e.Player.Object())
	d := dialog.NewCustom("QR codes of the "+e.artefact.Kind.Title(), "Close", body, e.u.win)
	d.SetOnClosed(func() {
		if e.qrDialog == d {
			e.qrDialog = nil
			e.stopPlayer()
		}
	})
	d.Resize(fyne.NewSize(dw, dh))
	e.qrDialog = d
	e.ShowQR.SetText("Hide QR codes")
	d.Show()
	e.Player.Play()
}

func (e *exportPanel) stopPlayer() {
	if e.Player != nil {
		e.Player.Stop()
		e.Player = nil
	}
	if d := e.qrDialog; d != nil {
		e.qrDialog = nil
		d.Hide()
	}
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

	size     int                 // pixels a side
	images   map[int]image.Image // codes drawn so far, by index in the loop
	captions map[int]string

	mu      sync.Mutex
	tick    int
	playing bool
	speed   float64
	stop    chan struct{}
	done    bool
}

// qrSize is the smallest side of the codes on screen, in pixels: a laptop
// webcam or a phone reads version 15 at 4 pixels a module.
const qrSize = 300

// newQRPlayer makes a player of codes drawn size pixels square (at least
// qrSize), so that each module is a whole number of pixels on screen.
func newQRPlayer(th *uiThread, codes *app.QRCodes, size int, speed float64, saveSpeed func(float64)) *qrPlayer {
	if speed < 0.5 || speed > 10 {
		speed = 2
	}
	size = max(size, qrSize)
	p := &qrPlayer{th: th, codes: codes, speed: speed, Caption: widget.NewLabel(""), size: size,
		images: map[int]image.Image{}, captions: map[int]string{}}
	p.Image = canvas.NewImageFromImage(image.NewGray(image.Rect(0, 0, 1, 1)))
	p.Image.FillMode = canvas.ImageFillContain
	p.Image.ScaleMode = canvas.ImageScalePixels
	p.Image.SetMinSize(fyne.NewSize(float32(size), float32(size)))
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
	p.box = container.NewBorder(nil, container.NewVBox(p.Caption,
		container.NewBorder(nil, nil, container.NewHBox(p.Prev, p.Pause, p.Next), widget.NewLabel("codes/s"), p.Speed)),
		nil, nil, card)
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
		img, caption, err = p.codes.Image(i, p.size)
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
// the open dialog, a paste, or QR images and page scans gathered over time
// (a QR session: a wrong image is turned away alone, Clear starts over).
type importPanel struct {
	u    *UI
	svc  *app.Service
	want app.ArtefactKind

	Open      *widget.Button
	Paste     *widget.Entry
	Read      *widget.Button
	AddQR     *widget.Button // pick several images in a folder
	AddFolder *widget.Button // every image and frames.txt of a folder
	ClearQR   *widget.Button
	QRState   *widget.Label // "3 of 6 parts so far; still missing 2, 5, 6."
	QRFiles   *widget.Label // what each file added gave
	task      *taskPanel
	box       *fyne.Container
	status    *fyne.Container

	session *app.QRSession
	lines   []string

	// Imported is called on the UI thread with the artefact read.
	Imported func(*app.ArtefactView)
}

func newImportPanel(u *UI, svc *app.Service, want app.ArtefactKind) *importPanel {
	p := &importPanel{u: u, svc: svc, want: want, task: newTaskPanel(u.thread), QRState: widget.NewLabel(""), QRFiles: widget.NewLabel(""),
		session: svc.NewQRSession(want)}
	p.task.After = u.refreshStatus
	p.Open = widget.NewButtonWithIcon("Open file…", theme.FolderOpenIcon(), p.onOpen)
	p.Open.Importance = widget.HighImportance
	p.Paste = widget.NewMultiLineEntry()
	p.Paste.SetPlaceHolder("…or paste the " + want.Title() + " here")
	p.Paste.Wrapping = fyne.TextWrapBreak
	p.Paste.SetMinRowsVisible(3)
	p.Read = widget.NewButtonWithIcon("Read pasted text", theme.ContentPasteIcon(), p.onPaste)
	p.AddQR = widget.NewButtonWithIcon("Add QR images…", theme.MediaPhotoIcon(), p.onAddQR)
	p.AddFolder = widget.NewButtonWithIcon("Add a folder of QR images…", theme.FolderIcon(), p.onAddFolder)
	p.ClearQR = widget.NewButtonWithIcon("Clear", theme.ContentClearIcon(), p.Clear)
	p.ClearQR.Disable()
	p.QRState.Wrapping = fyne.TextWrapWord
	p.QRFiles.Wrapping = fyne.TextWrapWord
	p.box = container.NewVBox(
		note("Drop the "+want.Title()+" file on this window, open it, paste it, or read its QR codes: images, screenshots or page scans, several at a time, in any order."),
		container.NewHBox(p.Open),
		p.Paste, container.NewHBox(p.Read),
		widget.NewSeparator(),
		container.NewHBox(p.AddQR, p.AddFolder, p.ClearQR),
		p.QRFiles, p.task.More(),
	)
	p.status = container.NewVBox(p.QRState, p.task.Status())
	return p
}

// Object returns the panel's options, for the scrolling part of a step.
func (p *importPanel) Object() fyne.CanvasObject { return p.box }

// Status returns how far the QR codes have come and what the reading is
// doing, for the step's footer where they stay in view.
func (p *importPanel) Status() fyne.CanvasObject { return p.status }

// Clear forgets the QR parts gathered so far.
func (p *importPanel) Clear() {
	p.session.Clear()
	p.lines = nil
	p.QRState.SetText("")
	p.QRFiles.SetText("")
	p.ClearQR.Disable()
	p.task.Reset()
}

// startFolder is where the open dialogs begin: the training drive in
// training, else the folder last opened from, else a removable drive.
func (p *importPanel) startFolder() fyne.ListableURI {
	var dirs []string
	if t := p.svc.Simulated(); t != nil {
		dirs = append(dirs, t.Drive)
	}
	if last := p.u.prefs().String(prefImportFolder); last != "" {
		dirs = append(dirs, last)
	}
	for _, d := range p.svc.Drives() {
		dirs = append(dirs, d.Path)
	}
	for _, d := range dirs {
		if l, err := storage.ListerForURI(storage.NewFileURI(d)); err == nil {
			return l
		}
	}
	return nil
}

// StartFolder returns the path the open dialogs begin in, or "".
func (p *importPanel) StartFolder() string {
	if l := p.startFolder(); l != nil {
		return l.Path()
	}
	return ""
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
	if l := p.startFolder(); l != nil {
		d.SetLocation(l)
	}
	d.Show()
}

// Dropped handles files dropped on the window: images, frames.txt and
// folders are QR codes, another file is read as the artefact.
func (p *importPanel) Dropped(paths []string) {
	var qrs []string
	for _, path := range paths {
		st, err := os.Stat(path)
		switch {
		case err == nil && st.IsDir():
			qrs = append(qrs, path)
		case isQRName(path):
			qrs = append(qrs, path)
		default:
			p.ImportFile(path)
			return
		}
	}
	if len(qrs) > 0 {
		p.AddQRFiles(qrs)
	}
}

func isQRName(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return strings.EqualFold(filepath.Base(path), "frames.txt")
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
	start := ""
	if l := p.startFolder(); l != nil {
		start = l.Path()
	}
	pickQRFiles(p.u.win, start, p.AddQRFiles)
}

func (p *importPanel) onAddFolder() {
	d := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			return
		}
		p.AddQRFiles([]string{dir.Path()})
	}, p.u.win)
	if l := p.startFolder(); l != nil {
		d.SetLocation(l)
	}
	d.Show()
}

// AddQRFiles adds QR images, frame files or folders of them to the QR
// session. Each file is judged alone: one that holds another artefact is
// turned away, saying so, and the parts already in stay.
func (p *importPanel) AddQRFiles(paths []string) {
	if len(paths) == 0 {
		return
	}
	p.u.prefs().SetString(prefImportFolder, filepath.Dir(paths[0]))
	q := p.session
	var results []app.QRFileResult
	p.start("Reading the QR codes", func(ctx context.Context, progress func(app.Event)) (*app.ArtefactView, error) {
		var err error
		results, err = q.Add(ctx, paths, progress)
		p.u.thread.Do(func() { p.showQR(results) })
		if err != nil {
			return nil, err
		}
		return q.Artefact(), nil
	})
}

// showQR shows how far the QR session has come and what each file gave.
func (p *importPanel) showQR(results []app.QRFileResult) {
	for _, r := range results {
		name := filepath.Base(r.File)
		switch {
		case r.Problem != "":
			p.lines = append(p.lines, "Turned away: "+r.Problem)
		case len(r.Parts) > 0:
			p.lines = append(p.lines, fmt.Sprintf("Accepted %s: part(s) %s", name, app.Ranges(r.Parts)))
		default:
			p.lines = append(p.lines, fmt.Sprintf("%s: only parts already in", name))
		}
	}
	if len(p.lines) > 50 {
		p.lines = p.lines[len(p.lines)-50:]
	}
	p.QRFiles.SetText(strings.Join(p.lines, "\n"))
	p.QRState.SetText("QR codes: " + p.session.Progress())
	if p.session.Status().Parts > 0 || len(p.lines) > 0 {
		p.ClearQR.Enable()
	}
}

func (p *importPanel) start(title string, work func(context.Context, func(app.Event)) (*app.ArtefactView, error)) {
	var got *app.ArtefactView
	p.task.run(p.u.ctx, title, false, func(ctx context.Context, progress func(app.Event)) error {
		v, err := work(ctx, progress)
		got = v
		return err
	}, func(err error) {
		if err == nil && got != nil {
			p.session.Clear()
			p.lines = nil
			p.ClearQR.Disable()
			if p.Imported != nil {
				p.Imported(got)
			}
		}
	})
}

// pickQRFiles lets the user choose several QR images (and frames.txt) of
// one folder at once, which Fyne's open dialog cannot: the files are listed
// with a check box each, all checked; "Change folder…" picks another.
func pickQRFiles(win fyne.Window, start string, onPick func([]string)) {
	var files []string
	checked := map[int]bool{}
	folder := widget.NewLabel("")
	folder.Wrapping = fyne.TextWrapBreak
	list := widget.NewList(func() int { return len(files) },
		func() fyne.CanvasObject { return widget.NewCheck("", nil) },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			c := o.(*widget.Check)
			c.Text = filepath.Base(files[i])
			c.OnChanged = nil
			c.SetChecked(checked[i])
			c.OnChanged = func(on bool) { checked[i] = on }
			c.Refresh()
		})
	load := func(dir string) {
		files, checked = nil, map[int]bool{}
		folder.SetText("Folder: " + dir)
		if inner, err := app.QRInputsIn(dir); err == nil {
			files = inner
		} else {
			folder.SetText("Folder: " + dir + "\n" + app.Explain(err).Reason)
		}
		for i := range files {
			checked[i] = true
		}
		list.Refresh()
	}
	if start != "" {
		load(start)
	}
	change := widget.NewButtonWithIcon("Change folder…", theme.FolderOpenIcon(), func() {
		d := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
			if err == nil && dir != nil {
				load(dir.Path())
			}
		}, win)
		if start != "" {
			if l, err := storage.ListerForURI(storage.NewFileURI(start)); err == nil {
				d.SetLocation(l)
			}
		}
		d.Show()
	})
	all := widget.NewButton("Select all", func() {
		for i := range files {
			checked[i] = true
		}
		list.Refresh()
	})
	none := widget.NewButton("Select none", func() {
		checked = map[int]bool{}
		list.Refresh()
	})
	body := container.NewBorder(container.NewVBox(folder, container.NewHBox(change, all, none)), nil, nil, nil, list)
	d := dialog.NewCustomConfirm("Add QR images", "Add", "Cancel", body, func(ok bool) {
		if !ok {
			return
		}
		var picked []string
		for i, f := range files {
			if checked[i] {
				picked = append(picked, f)
			}
		}
		onPick(picked)
	}, win)
	d.Resize(fyne.NewSize(560, 420))
	d.Show()
}
