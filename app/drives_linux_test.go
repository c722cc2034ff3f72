package app

import (
	"os"
	"path/filepath"
	"testing"
)

// TestVolumeID reads a mounts table and a by-uuid folder as udev leaves
// them: a FAT stick's serial is found through the symlink to its device.
func TestVolumeID(t *testing.T) {
	dir := t.TempDir()
	dev := filepath.Join(dir, "dev")
	byUUID := filepath.Join(dir, "by-uuid")
	for _, d := range []string{dev, byUUID} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"sdb1", "sdc1"} {
		if err := os.WriteFile(filepath.Join(dev, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../dev/sdb1", filepath.Join(byUUID, "1A2B-3C4D")); err != nil {
		t.Fatal(err)
	}
	table := filepath.Join(dir, "mounts")
	mounts := "/dev/sda2 / ext4 rw 0 0\n" +
		"/dev/sdb1 /media/op/KEYS\\040USB vfat rw 0 0\n" +
		"/dev/sdc1 /media/op/OTHER vfat rw 0 0\n" +
		"tmpfs /tmp tmpfs rw 0 0\n"
	if err := os.WriteFile(table, []byte(mounts), 0o600); err != nil {
		t.Fatal(err)
	}
	devs := mountDevices(table)
	if got := devs["/media/op/KEYS USB"]; got != "/dev/sdb1" {
		t.Fatalf("device of /media/op/KEYS USB = %q (table %v)", got, devs)
	}
	if _, ok := devs["/tmp"]; ok {
		t.Error("tmpfs listed as a device")
	}
	// The table names /dev/sdb1; here the device lives under dir.
	if got := volumeID(filepath.Join(dev, "sdb1"), byUUID); got != "1A2B-3C4D" {
		t.Errorf("volumeID(sdb1) = %q, want 1A2B-3C4D", got)
	}
	if got := volumeID(filepath.Join(dev, "sdc1"), byUUID); got != "" {
		t.Errorf("volumeID(sdc1) = %q, want none", got)
	}
	if got := (Drive{Label: "KEYS (F:)", Serial: "1A2B-3C4D"}).Title(); got != "KEYS (F:) · serial 1A2B-3C4D" {
		t.Errorf("Title = %q", got)
	}
}

func TestDriveOf(t *testing.T) {
	ds := []Drive{{Path: "/media/op/KEYS", Label: "KEYS"}, {Path: "/media/op/KEYS2", Label: "KEYS2", Serial: "0A0B-0C0D"}}
	for _, tt := range []struct {
		path, want string
	}{
		{"/media/op/KEYS/activation-key.txt", "KEYS"},
		{"/media/op/KEYS2/a/b.txt", "KEYS2"}, // not KEYS: a prefix of the name is not the folder
		{"/media/op/KEYS", "KEYS"},
		{"/home/op/token.txt", ""},
	} {
		d, ok := driveOf(ds, tt.path)
		if ok != (tt.want != "") || d.Label != tt.want {
			t.Errorf("driveOf(%q) = %v, %v; want %q", tt.path, d, ok, tt.want)
		}
	}
}
