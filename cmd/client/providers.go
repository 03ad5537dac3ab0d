package main

import (
	"os"

	"pcx/adapters/localfs"
	"pcx/adapters/tcp"
	"pcx/adapters/terminal"
)

// Plain constructors, so the injector can be written by hand too:
//
//	console, _ := openConsole()
//	downloads, _ := openDownloads(s)
//	c := client.New(dialTCP(), dictcodec.New(), consoleUI(console), downloads, localfs.NewUploads())

// dialTCP dials with keep-alive probes, so a server that vanished without
// a word is noticed in about 15 s, and gives up a write that makes no
// progress for 30 s.
func dialTCP() tcp.Dialer {
	return tcp.Dialer{Options: tcp.Options{WriteTimeout: writeTimeout, KeepAlive: tcp.DefaultKeepAlive}}
}

// openConsole takes over the standard streams; its cleanup gives the
// terminal back.
func openConsole() (*terminal.Console, func(), error) {
	c, err := terminal.Open(os.Stdin, os.Stdout, os.Stderr)
	if err != nil {
		return nil, nil, err
	}
	return c, c.Close, nil
}

// consoleUI is the console's user interface.
func consoleUI(c *terminal.Console) *terminal.UI { return c.UI }

// openDownloads opens the download folder.
func openDownloads(s settings) (*localfs.Downloads, func(), error) {
	d, err := localfs.NewDownloads(s.Dir)
	if err != nil {
		return nil, nil, err
	}
	return d, func() { d.Close() }, nil
}
