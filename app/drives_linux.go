package app

import (
	"os"
	"os/user"
	"path/filepath"
	"sort"
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
	for _, root := range []string{filepath.Join("/media", name), filepath.Join("/run/media", name)} {
		ents, err := os.ReadDir(root)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.IsDir() {
				ds = append(ds, Drive{Path: filepath.Join(root, e.Name()), Label: e.Name()})
			}
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].Path < ds[j].Path })
	return ds
}
