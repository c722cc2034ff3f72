// Package assets embeds the app's icon and other resources. It must never
// import anything but Fyne's resource type.
package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:embed icon.png
var iconPNG []byte

// Icon is the app icon: an arrow crossing an air gap.
var Icon = fyne.NewStaticResource("icon.png", iconPNG)
