package ports

import "io"

//go:generate go tool mockgen -typed -destination=mocks/files.go -package=mocks pcx/ports DownloadStore,UploadSource

// DownloadStore keeps the files that arrive attached to messages
// (PROTOCOL.md section 6).
type DownloadStore interface {
	// Save stores the size bytes read from r as a new file named after
	// name, reduced to a harmless base name and never replacing an existing
	// file, and returns the name it chose. Whatever happens to the file,
	// Save reads all size bytes of r, so the stream r comes from stays in
	// step; only an error from r itself stops it early. On error nothing is
	// left behind.
	Save(name string, size int64, r io.Reader) (savedAs string, err error)
}

// Upload is a file opened to be sent as an attachment.
type Upload struct {
	// Name is the base name the file is sent under.
	Name string
	// Size is the file's length when it was opened; exactly that many bytes
	// are sent.
	Size int64
	// Body yields the file's bytes. From the file system it is an *os.File,
	// so that it can go to the socket by sendfile. The caller closes it.
	Body io.ReadCloser
}

// UploadSource opens the files a user attaches.
type UploadSource interface {
	// Open opens the file at path. A path that is missing, unreadable or
	// not a regular file gives an error that says so in words a user
	// understands.
	Open(path string) (Upload, error)
}
