package ui

import "fyne.io/fyne/v2"

// columnLayout centres one object in a column at most width wide: the
// start screen reads as a column on a wide window and uses all of a
// narrow one (800×600).
type columnLayout struct{ width float32 }

func (l columnLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	w := min(size.Width, l.width)
	for _, o := range objs {
		h := max(o.MinSize().Height, size.Height)
		o.Resize(fyne.NewSize(w, h))
		o.Move(fyne.NewPos((size.Width-w)/2, 0))
	}
}

func (l columnLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return fyne.NewSize(min(s.Width, l.width), s.Height)
}

// column returns obj in a centred column at most width wide.
func column(width float32, obj fyne.CanvasObject) fyne.CanvasObject {
	return &fyne.Container{Layout: columnLayout{width}, Objects: []fyne.CanvasObject{obj}}
}
