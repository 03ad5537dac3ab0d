package main

import (
	"os"

	"pcx/adapters/jsonlines"
	"pcx/adapters/localfs"
	"pcx/adapters/terminal"
	"pcx/ports"
)

// Plain constructors, so the injector can be written by hand too:
//
//	ui, _, _ := openUI(s)
//	downloads, _, _ := openDownloads(s)
//	d, _ := newDialer(s)
//	c := client.New(d, dictcodec.New(), ui, downloads, localfs.NewUploads())

// openUI takes over the standard streams: JSON lines for a program
// (--json), else the terminal. Its cleanup gives the terminal back.
func openUI(s settings) (ports.UI, func(), error) {
	if s.JSON {
		return jsonlines.New(os.Stdin, os.Stdout, os.Stderr, s.Dir), func() {}, nil
	}
	c, err := terminal.Open(os.Stdin, os.Stdout, os.Stderr, terminal.Options{Seconds: s.Seconds, Bell: !s.NoBell})
	if err != nil {
		return nil, nil, err
	}
	return c.UI, c.Close, nil
}

// openDownloads opens the download folder with its limits.
func openDownloads(s settings) (*localfs.Downloads, func(), error) {
	d, err := localfs.NewDownloads(s.Dir, localfs.Limits{MaxFile: int64(s.MaxFile), MinFree: int64(s.MinFree)})
	if err != nil {
		return nil, nil, err
	}
	return d, func() { d.Close() }, nil
}
