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
	"sync"

	"pcx/ports"
)

// maxClashes bounds the search for a free name: photo (1).jpg to
// photo (9999).jpg.
const maxClashes = 9999

// Errors of a download that was dropped; Save wraps them with the details.
var (
	// ErrNoFreeName means every candidate name for a download was taken.
	ErrNoFreeName = errors.New("localfs: no free name")
	// ErrFileTooLarge means the file is over Limits.MaxFile.
	ErrFileTooLarge = errors.New("localfs: the file is over the size limit")
	// ErrDiskLow means saving the file would leave less than Limits.MinFree
	// free on the download folder's file system.
	ErrDiskLow = errors.New("localfs: too little disk space would be left")
)

// Limits bound what a peer may put on this disk. Zero means no limit.
type Limits struct {
	// MaxFile is the largest file saved; a larger one is read and dropped.
	MaxFile int64
	// MinFree is the space that must stay free on the download folder's
	// file system: a file that would leave less is dropped, before it is
	// written or as soon as the disk fills up while it is written.
	MinFree int64
}

// freeCheckEvery is how many bytes are written between two looks at the
// free space: others may fill the disk while a large file arrives.
const freeCheckEvery = 8 << 20

// Downloads saves attachments into one folder and never anywhere else: it
// goes through an os.Root, so neither a name nor a symbolic link can lead
// outside. It is safe for concurrent use.
type Downloads struct {
	dir    string   // for messages
	root   *os.Root // the folder; every file operation goes through it
	limits Limits
	// free returns the bytes available to this user on the folder's file
	// system; ok is false where that cannot be known (no limit applies).
	free func() (n int64, ok bool)

	// mu guards next: for each clean name, the first clash index not yet
	// found taken, so that saving n files of one name tries O(n) names in
	// all rather than O(n²). Each candidate is still claimed exclusively.
	mu   sync.Mutex
	next map[string]int
}

var _ ports.DownloadStore = (*Downloads)(nil)

// NewDownloads opens dir, which must be an existing folder, as the
// download folder, with the limits given (none when left out). Close it
// when done.
func NewDownloads(dir string, limits ...Limits) (*Downloads, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("localfs: download folder: %w", err)
	}
	d := &Downloads{dir: dir, root: root, next: make(map[string]int)}
	if len(limits) > 0 {
		d.limits = limits[0]
	}
	d.free = func() (int64, bool) { return freeSpace(root) }
	return d, nil
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
//
// A file over Limits.MaxFile, or one that would leave less than
// Limits.MinFree on the disk, is read and dropped: the error wraps
// ErrFileTooLarge or ErrDiskLow.
func (d *Downloads) Save(name string, size int64, r io.Reader) (string, error) {
	clean := CleanName(name)
	src := &countingReader{r: r}
	var tmp string
	err := d.admit(size)
	if err == nil {
		tmp, err = d.writeTemp(clean, size, src)
	}
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

// admit checks a file of size bytes against the limits before a byte of it
// is written.
func (d *Downloads) admit(size int64) error {
	if d.limits.MaxFile > 0 && size > d.limits.MaxFile {
		return fmt.Errorf("%w: %d bytes, and at most %d are taken (--max-file)", ErrFileTooLarge, size, d.limits.MaxFile)
	}
	return d.checkFree(size)
}

// checkFree fails when writing more bytes would leave less than MinFree.
func (d *Downloads) checkFree(more int64) error {
	if d.limits.MinFree <= 0 {
		return nil
	}
	free, ok := d.free()
	if ok && free-more < d.limits.MinFree {
		return fmt.Errorf("%w: %d bytes free in %s, and %d must stay free (--min-free)", ErrDiskLow, free, d.dir, d.limits.MinFree)
	}
	return nil
}

// writeTemp copies size bytes of src into a new temporary file and returns
// its name; on error the file is gone.
func (d *Downloads) writeTemp(clean string, size int64, src *countingReader) (string, error) {
	f, tmp, err := d.createTemp(clean)
	if err != nil {
		return "", fmt.Errorf("localfs: cannot create a file in %s: %w", d.dir, unwrapPath(err))
	}
	_, err = io.CopyN(&guardedWriter{d: d, w: f, left: size}, src, size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		d.root.Remove(tmp)
		if src.err != nil {
			return "", fmt.Errorf("localfs: reading %q: %w", clean, src.err)
		}
		if errors.Is(err, ErrDiskLow) {
			return "", err
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
	for i := d.firstCandidate(clean); i <= maxClashes; i++ {
		cand := clean
		if i > 0 {
			cand = fmt.Sprintf("%s (%d)%s", stem, i, ext)
		}
		err := d.root.Link(tmp, cand)
		switch {
		case err == nil:
			d.root.Remove(tmp)
			d.taken(clean, i)
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
			d.taken(clean, i)
			return cand, nil
		}
	}
	return "", fmt.Errorf("%w for %q in %s", ErrNoFreeName, clean, d.dir)
}

// firstCandidate is the clash index to try first for clean.
func (d *Downloads) firstCandidate(clean string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.next[clean]
}

// taken records that clean's candidates up to i are taken. A file removed
// meanwhile leaves a gap that is not filled again: names only go up, as
// they would for a person saving one after another.
func (d *Downloads) taken(clean string, i int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.next[clean] = max(d.next[clean], i+1)
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

// guardedWriter writes a download and looks at the free space every
// freeCheckEvery bytes, so that a disk filled by others meanwhile stops
// the file before the disk is full.
type guardedWriter struct {
	d       *Downloads
	w       io.Writer
	left    int64 // bytes still to come
	unCheck int64 // bytes written since the last look
}

func (g *guardedWriter) Write(p []byte) (int, error) {
	if g.unCheck >= freeCheckEvery {
		g.unCheck = 0
		if err := g.d.checkFree(g.left); err != nil {
			return 0, err
		}
	}
	n, err := g.w.Write(p)
	g.unCheck += int64(n)
	g.left -= int64(n)
	return n, err
}
