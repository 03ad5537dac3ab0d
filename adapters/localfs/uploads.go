package localfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"pcx/ports"
)

// Errors of Uploads.Open for paths that name no file to send.
var (
	ErrIsDirectory = errors.New("it is a folder, not a file")
	ErrNotRegular  = errors.New("it is not a regular file")
)

// Uploads opens files on the local file system for sending.
type Uploads struct{}

var _ ports.UploadSource = Uploads{}

// NewUploads returns the file opener.
func NewUploads() Uploads { return Uploads{} }

// Open implements ports.UploadSource. The path may be wrapped in quotes, as
// terminals write a file dropped on them, and may start with ~/ for the
// home folder. Body is the *os.File itself.
func (Uploads) Open(path string) (ports.Upload, error) {
	path = expandHome(unquote(strings.TrimSpace(path)))
	f, err := os.Open(path)
	if err != nil {
		return ports.Upload{}, describe(err)
	}
	info, err := f.Stat()
	if err == nil {
		switch {
		case info.IsDir():
			err = ErrIsDirectory
		case !info.Mode().IsRegular():
			err = ErrNotRegular
		}
	}
	if err != nil {
		f.Close()
		return ports.Upload{}, describe(err)
	}
	return ports.Upload{Name: filepath.Base(path), Size: info.Size(), Body: f}, nil
}

// describe says in a few words why a file cannot be opened; the path is
// already in the caller's message. The words are for the user, so they
// carry no package prefix; the cause stays reachable through errors.Is.
func describe(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &openError{"no such file", err}
	case errors.Is(err, fs.ErrPermission):
		return &openError{"permission denied", err}
	case errors.Is(err, ErrIsDirectory), errors.Is(err, ErrNotRegular):
		return err
	}
	return unwrapPath(err)
}

type openError struct {
	text string
	err  error
}

func (e *openError) Error() string { return e.text }
func (e *openError) Unwrap() error { return e.err }

func unquote(p string) string {
	if len(p) >= 2 && (p[0] == '\'' || p[0] == '"') && p[len(p)-1] == p[0] {
		return p[1 : len(p)-1]
	}
	return p
}

func expandHome(p string) string {
	if !strings.HasPrefix(p, "~/") {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, p[2:])
}
