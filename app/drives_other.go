//go:build !linux && !windows

package app

// RemovableDrives lists the mounted removable drives. On this system they
// are not told apart from other volumes, so the list is empty and the user
// chooses the drive's folder.
func RemovableDrives() []Drive { return nil }
