package app

import (
	"bufio"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
)

// RemovableDrives lists the mounted removable drives: the folders under
// /media/$USER and /run/media/$USER, where udisks mounts them.
func RemovableDrives() []Drive {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		return nil
	}
	var ds []Drive
	devs := mountDevices("/proc/self/mounts")
	for _, root := range []string{filepath.Join("/media", name), filepath.Join("/run/media", name)} {
		ents, err := os.ReadDir(root)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.IsDir() {
				path := filepath.Join(root, e.Name())
				ds = append(ds, Drive{Path: path, Label: e.Name(), Serial: volumeID(devs[path], "/dev/disk/by-uuid")})
			}
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].Path < ds[j].Path })
	return ds
}

// mountDevices maps mount points to their devices from a mounts table
// (/proc/self/mounts), whose fields escape spaces as \040.
func mountDevices(table string) map[string]string {
	f, err := os.Open(table)
	if err != nil {
		return nil
	}
	defer f.Close()
	m := make(map[string]string)
	unescape := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && strings.HasPrefix(fields[0], "/dev/") {
			m[unescape.Replace(fields[1])] = fields[0]
		}
	}
	return m
}

// volumeID returns the file system ID of dev as udev lists it in byUUID
// (/dev/disk/by-uuid): for FAT and exFAT sticks the volume serial number
// Windows shows ("1A2B-3C4D"). It returns "" when dev has none.
func volumeID(dev, byUUID string) string {
	if dev == "" {
		return ""
	}
	want, err := filepath.EvalSymlinks(dev)
	if err != nil {
		return ""
	}
	ents, err := os.ReadDir(byUUID)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		if got, err := filepath.EvalSymlinks(filepath.Join(byUUID, e.Name())); err == nil && got == want {
			return e.Name()
		}
	}
	return ""
}
