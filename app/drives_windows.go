package app

import (
	"golang.org/x/sys/windows"
)

// RemovableDrives lists the drive letters Windows reports as removable
// (GetDriveType DRIVE_REMOVABLE): USB sticks and card readers.
func RemovableDrives() []Drive {
	mask, err := windows.GetLogicalDrives()
	if err != nil {
		return nil
	}
	var ds []Drive
	for i := 0; i < 26; i++ {
		if mask&(1<<uint(i)) == 0 {
			continue
		}
		root := string(rune('A'+i)) + `:\`
		p, err := windows.UTF16PtrFromString(root)
		if err != nil {
			continue
		}
		if windows.GetDriveType(p) == windows.DRIVE_REMOVABLE {
			ds = append(ds, Drive{Path: root, Label: root[:2] + " (removable)"})
		}
	}
	return ds
}
