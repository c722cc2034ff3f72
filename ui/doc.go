// Package ui is the Fyne GUI of AzS Courier. It calls only package app; it
// never imports courier, pep or azure, and it does not import
// fyne.io/fyne/v2/app (main does), so its tests run without cgo.
package ui
