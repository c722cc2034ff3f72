package app

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/windows"
)

// Storage bus types (STORAGE_BUS_TYPE) of removable media that Windows may
// report as fixed disks: USB hard drives and many USB sticks, SD and MMC
// cards in built-in readers.
const (
	busTypeUSB = 7
	busTypeSD  = 12
	busTypeMMC = 13
)

// ioctlStorageQueryProperty is IOCTL_STORAGE_QUERY_PROPERTY.
const ioctlStorageQueryProperty = 0x2D1400

// RemovableDrives lists the drive letters that hold removable media, as
// Explorer shows them: drives Windows reports as removable (USB sticks,
// card readers), and fixed disks on a USB, SD or MMC bus (USB hard drives,
// sticks that present themselves as fixed). Each carries its volume label
// and serial number.
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
		letter := string(rune('A' + i))
		root := letter + `:\`
		p, err := windows.UTF16PtrFromString(root)
		if err != nil {
			continue
		}
		switch windows.GetDriveType(p) {
		case windows.DRIVE_REMOVABLE:
		case windows.DRIVE_FIXED:
			if !onRemovableBus(letter) {
				continue
			}
		default:
			continue
		}
		label, serial := volumeInfo(p)
		name := label
		if name == "" {
			name = "USB Drive"
		}
		ds = append(ds, Drive{Path: root, Label: fmt.Sprintf("%s (%s:)", name, letter), Serial: serial})
	}
	return ds
}

// volumeInfo returns the volume's label and serial number, or "" for what
// cannot be read (no medium in a card reader).
func volumeInfo(root *uint16) (label, serial string) {
	var name [windows.MAX_PATH + 1]uint16
	var sn uint32
	if err := windows.GetVolumeInformation(root, &name[0], uint32(len(name)), &sn, nil, nil, nil, 0); err != nil {
		return "", ""
	}
	return windows.UTF16ToString(name[:]), fmt.Sprintf("%04X-%04X", sn>>16, sn&0xFFFF)
}

// onRemovableBus asks the storage driver of the volume on letter which bus
// its disk hangs on.
func onRemovableBus(letter string) bool {
	path, err := windows.UTF16PtrFromString(`\\.\` + letter + `:`)
	if err != nil {
		return false
	}
	h, err := windows.CreateFile(path, 0, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		return false
	}
	defer windows.CloseHandle(h)
	// STORAGE_PROPERTY_QUERY{PropertyId: StorageDeviceProperty, QueryType: PropertyStandardQuery}.
	var query [12]byte
	var out [1024]byte
	var n uint32
	if err := windows.DeviceIoControl(h, ioctlStorageQueryProperty, &query[0], uint32(len(query)),
		&out[0], uint32(len(out)), &n, nil); err != nil || n < 32 {
		return false
	}
	// STORAGE_DEVICE_DESCRIPTOR: Version, Size, four BOOLEAN/BYTE fields,
	// four offsets, then BusType at byte 28.
	switch binary.LittleEndian.Uint32(out[28:32]) {
	case busTypeUSB, busTypeSD, busTypeMMC:
		return true
	}
	return false
}
