package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// appTheme is Fyne's default theme with three changes: the colours that
// carry text or meaning meet WCAG AA contrast in light and dark (Fyne's
// orange warning text on white is 2.2:1, its red 3.7:1, its white on blue
// buttons 3:1); the focus is marked clearly; and every size is scaled by the
// text-size setting. variant, when set, holds the light or dark variant
// whatever the system says.
type appTheme struct {
	fyne.Theme
	variant *fyne.ThemeVariant
	scale   float32
}

// Colours that replace Fyne's, by variant (text on background at least
// 4.5:1, see TestThemeContrast).
var (
	lightColors = map[fyne.ThemeColorName]color.Color{
		theme.ColorNameForeground:          color.NRGBA{0x3c, 0x3c, 0x3c, 0xff},
		theme.ColorNamePlaceHolder:         color.NRGBA{0x69, 0x69, 0x69, 0xff},
		theme.ColorNameDisabled:            color.NRGBA{0x86, 0x86, 0x86, 0xff}, // muted, yet readable (steps not reached)
		theme.ColorNameInputBorder:         color.NRGBA{0x76, 0x76, 0x76, 0xff}, // unchecked boxes and radios visible (3:1)
		theme.ColorNamePrimary:             color.NRGBA{0x15, 0x65, 0xc0, 0xff},
		theme.ColorNameHyperlink:           color.NRGBA{0x15, 0x65, 0xc0, 0xff},
		theme.ColorNameForegroundOnPrimary: color.White,
		theme.ColorNameFocus:               color.NRGBA{0x15, 0x65, 0xc0, 0x4d},
		theme.ColorNameWarning:             color.NRGBA{0x8a, 0x4b, 0x00, 0xff},
		theme.ColorNameForegroundOnWarning: color.White,
		theme.ColorNameError:               color.NRGBA{0xb3, 0x26, 0x1e, 0xff},
		theme.ColorNameForegroundOnError:   color.White,
		theme.ColorNameSuccess:             color.NRGBA{0x1b, 0x6e, 0x24, 0xff},
		theme.ColorNameForegroundOnSuccess: color.White,
	}
	darkColors = map[fyne.ThemeColorName]color.Color{
		theme.ColorNamePlaceHolder:         color.NRGBA{0xb2, 0xb2, 0xb2, 0xff},
		theme.ColorNameDisabled:            color.NRGBA{0x80, 0x80, 0x82, 0xff},
		theme.ColorNameInputBorder:         color.NRGBA{0x8c, 0x8c, 0x8e, 0xff},
		theme.ColorNamePrimary:             color.NRGBA{0x19, 0x76, 0xd2, 0xff},
		theme.ColorNameHyperlink:           color.NRGBA{0x64, 0xb5, 0xf6, 0xff},
		theme.ColorNameForegroundOnPrimary: color.White,
		theme.ColorNameFocus:               color.NRGBA{0x64, 0xb5, 0xf6, 0x4d},
		theme.ColorNameWarning:             color.NRGBA{0xff, 0xb7, 0x4d, 0xff},
		theme.ColorNameForegroundOnWarning: color.NRGBA{0x17, 0x17, 0x18, 0xff},
		theme.ColorNameError:               color.NRGBA{0xff, 0x8a, 0x80, 0xff},
		theme.ColorNameForegroundOnError:   color.NRGBA{0x17, 0x17, 0x18, 0xff},
		theme.ColorNameSuccess:             color.NRGBA{0x81, 0xc7, 0x84, 0xff},
		theme.ColorNameForegroundOnSuccess: color.NRGBA{0x17, 0x17, 0x18, 0xff},
	}
)

// Color implements fyne.Theme.
func (t appTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.variant != nil {
		v = *t.variant
	}
	colors := darkColors
	if v == theme.VariantLight {
		colors = lightColors
	}
	if c, ok := colors[n]; ok {
		return c
	}
	return t.Theme.Color(n, v)
}

// Size implements fyne.Theme: every size scaled by the text-size setting.
func (t appTheme) Size(n fyne.ThemeSizeName) float32 {
	s := t.Theme.Size(n)
	if t.scale > 0 {
		s *= t.scale
	}
	return s
}

// textScales are the text sizes a user can choose, in percent.
var textScales = []string{"100 %", "125 %", "150 %", "175 %"}

func scaleOf(s string) float32 {
	switch s {
	case "125 %":
		return 1.25
	case "150 %":
		return 1.5
	case "175 %":
		return 1.75
	}
	return 1
}

// applyAppearance sets the theme: following the system or held to "light"
// or "dark", at the chosen text size ("100 %" … "175 %").
func applyAppearance(a fyne.App, appearance, textSize string) {
	t := appTheme{Theme: theme.DefaultTheme(), scale: scaleOf(textSize)}
	switch appearance {
	case "light":
		v := theme.VariantLight
		t.variant = &v
	case "dark":
		v := theme.VariantDark
		t.variant = &v
	}
	a.Settings().SetTheme(t)
}
