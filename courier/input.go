package courier

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ReadRegular reads the regular file at path, at most limit bytes. It
// refuses anything else before opening it for reading — a folder, a FIFO, a
// device, a socket — so that a wrong argument never blocks or streams
// forever, and it refuses a file longer than limit whatever its size claims
// (a size of 0 from Stat does not let /dev/zero through). The errors are
// *InputError values that name the path and say what to give instead.
func ReadRegular(path string, limit int64) ([]byte, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, &InputError{
			Problem: fmt.Sprintf("%s is larger than the %s accepted", path, sizeString(limit)),
			Fix:     "give the file itself, not an archive, disk image or log",
		}
	}
	return data, nil
}

// OpenRegular opens the regular file at path for reading, refusing a
// folder, a FIFO, a device or a socket without blocking on it. The caller
// bounds how much it reads.
func OpenRegular(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, openError(path, err)
	}
	if err := checkRegular(path, st); err != nil {
		return nil, err
	}
	f, err := openNoBlock(path)
	if err != nil {
		return nil, openError(path, err)
	}
	// The file may have been swapped since Stat: check what was opened.
	if st, err = f.Stat(); err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if err := checkRegular(path, st); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func checkRegular(path string, st fs.FileInfo) error {
	switch {
	case st.IsDir():
		return &InputError{Problem: fmt.Sprintf("%s is a folder", path), Fix: "give a file inside it"}
	case !st.Mode().IsRegular():
		return &InputError{
			Problem: fmt.Sprintf("%s is not a regular file (%s)", path, specialKind(st.Mode())),
			Fix:     "give the file itself; pipes and devices are not read (use - for standard input)",
		}
	}
	return nil
}

func specialKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// openError turns the error of opening path into one line that names the
// path once and says what to do.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &InputError{
			Problem: fmt.Sprintf("%s does not exist", path),
			Fix:     "check the path and the drive letter or mount point of the removable media",
		}
	case isLinkLoop(err):
		return &InputError{
			Problem: fmt.Sprintf("%s is a symbolic link that leads back to itself", path),
			Fix:     "give the file itself, or repair the link",
		}
	case errors.Is(err, fs.ErrPermission):
		return &InputError{
			Problem: fmt.Sprintf("%s may not be read by this account", path),
			Fix:     "copy the file to a folder you can read, or ask for read access",
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is named below, once
	}
	return fmt.Errorf("open %s: %w", path, err)
}
