// Package localfs keeps the client's files on the local file system: the
// download folder where attachments that arrive are saved
// (ports.DownloadStore) and the files a user attaches (ports.UploadSource).
package localfs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"pcx/ports"
)

// maxClashes bounds the search for a free name: photo (1).jpg to
// photo (9999).jpg.
const maxClashes = 9999

// ErrNoFreeName means every candidate name for a download was taken.
var ErrNoFreeName = errors.New("localfs: no free name")

// Downloads saves attachments into one folder and never anywhere else: it
// goes through an os.Root, so neither a name nor a symbolic link can lead
// outside. It is safe for concurrent use.
type Downloads struct {
	dir  string   // for messages
	root *os.Root // the folder; every file operation goes through it
}

var _ ports.DownloadStore = (*Downloads)(nil)

// NewDownloads opens dir, which must be an existing folder, as the
// download folder. Close it when done.
func NewDownloads(dir string) (*Downloads, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("localfs: download folder: %w", err)
	}
	return &Downloads{dir: dir, root: root}, nil
}

// Close releases the folder.
func (d *Downloads) Close() error { return d.root.Close() }

// Dir is the folder files are saved in, as it was given.
func (d *Downloads) Dir() string { return d.dir }

// Save implements ports.DownloadStore. The bytes go to a temporary
// "NAME.RANDOM.part" file, which is given its final name only when whole:
// CleanName(name), or "stem (1).ext", "stem (2).ext" … when that is
// taken. The final name is claimed with a hard link, which fails rather
// than replace a file, so not even a file created meanwhile is overwritten.
func (d *Downloads) Save(name string, size int64, r io.Reader) (string, error) {
	clean := CleanName(name)
	src := &countingReader{r: r}
	tmp, err := d.writeTemp(clean, size, src)
	if err != nil {
		// Keep the stream in step: the rest of the payload is read and
		// dropped, unless reading is what failed.
		if src.err == nil && src.n < size {
			if _, derr := io.CopyN(io.Discard, src, size-src.n); derr != nil {
				return "", fmt.Errorf("localfs: reading %q: %w", clean, derr)
			}
		}
		return "", err
	}
	saved, err := d.claim(tmp, clean)
	if err != nil {
		d.root.Remove(tmp)
		return "", err
	}
	return saved, nil
}

// writeTemp copies size bytes of src into a new temporary file and returns
// its name; on error the file is gone.
func (d *Downloads) writeTemp(clean string, size int64, src *countingReader) (string, error) {
	f, tmp, err := d.createTemp(clean)
	if err != nil {
		return "", fmt.Errorf("localfs: cannot create a file in %s: %w", d.dir, unwrapPath(err))
	}
	_, err = io.CopyN(f, src, size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		d.root.Remove(tmp)
		if src.err != nil {
			return "", fmt.Errorf("localfs: reading %q: %w", clean, src.err)
		}
		return "", fmt.Errorf("localfs: cannot write %q in %s: %w", clean, d.dir, unwrapPath(err))
	}
	return tmp, nil
}

func (d *Downloads) createTemp(clean string) (*os.File, string, error) {
	for {
		var rnd [4]byte
		rand.Read(rnd[:])
		tmp := clean + "." + hex.EncodeToString(rnd[:]) + ".part"
		f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, tmp, err
	}
}

// claim gives the whole temporary file its final name, the first free one.
func (d *Downloads) claim(tmp, clean string) (string, error) {
	ext := filepath.Ext(clean)
	stem := strings.TrimSuffix(clean, ext)
	if stem == "" { // ".gz" style names keep the dot in the stem
		stem, ext = clean, ""
	}
	for i := 0; i <= maxClashes; i++ {
		cand := clean
		if i > 0 {
			cand = fmt.Sprintf("%s (%d)%s", stem, i, ext)
		}
		err := d.root.Link(tmp, cand)
		switch {
		case err == nil:
			d.root.Remove(tmp)
			return cand, nil
		case errors.Is(err, fs.ErrExist):
			continue
		}
		// No hard links here (some network or FAT file systems): reserve
		// the name with an exclusive create, then move the file onto it.
		ok, rerr := d.reserveAndRename(tmp, cand)
		if rerr != nil {
			return "", fmt.Errorf("localfs: cannot name %q in %s: %w", cand, d.dir, unwrapPath(rerr))
		}
		if ok {
			return cand, nil
		}
	}
	return "", fmt.Errorf("%w for %q in %s", ErrNoFreeName, clean, d.dir)
}

// reserveAndRename claims cand by creating it exclusively and moves tmp
// onto it; ok is false when cand exists.
func (d *Downloads) reserveAndRename(tmp, cand string) (ok bool, err error) {
	f, err := d.root.OpenFile(cand, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	f.Close()
	if err := d.root.Rename(tmp, cand); err != nil {
		d.root.Remove(cand)
		return false, err
	}
	return true, nil
}

// unwrapPath drops the *PathError around err: its path names the
// temporary file, which means nothing to a user.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// countingReader counts the bytes read and keeps the first read error.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && c.err == nil && err != io.EOF {
		c.err = err
	}
	return n, err
}
