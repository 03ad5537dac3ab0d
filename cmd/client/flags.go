package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// writeTimeout bounds a write to the server that makes no progress.
const writeTimeout = 30 * time.Second

// DefaultServer is where the client connects unless told otherwise.
const DefaultServer = "127.0.0.1:23480"

// settings is everything the command line and the environment can set.
type settings struct {
	Server   string
	Dir      string
	Nickname string
}

const usage = `pcx-client: chat with everyone on a pcx server, and swap files.

Usage:
  pcx-client [flags] NICKNAME

NICKNAME is the name the others see: 1 to 32 printable characters, no
spaces, no \ and no ". If it is taken, you are asked for another one (when
input is a terminal; otherwise the client exits with status 1).

Type a message and press Enter; then type the path of a file to send with
it, or just press Enter to send the text alone. Messages from the others
appear above the line you are typing, as
  <15:04> [Olga] hello (saved as photo.jpg)
and the files they send are saved in the download folder, never over an
existing file (photo (1).jpg, ...). Leave with \q, Ctrl-D or Ctrl-C.

When input is not a terminal, lines are read in pairs, a text then a path
or an empty line, and the client leaves at the end of input once all is
sent.

Exit status: 0 when you leave, 1 when the server cannot be reached, refuses
the nickname or goes away, 2 for a bad command line.

Flags:
`

// parseSettings reads the flags in args over the environment's PCX_SERVER
// over the defaults.
func parseSettings(args []string, getenv func(string) string, stderr io.Writer) (settings, error) {
	s := settings{Server: DefaultServer, Dir: "."}
	if v := getenv("PCX_SERVER"); v != "" {
		s.Server = v
	}
	fs := flag.NewFlagSet("pcx-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.Server, "server", s.Server, "server address `host:port` (env PCX_SERVER)")
	fs.StringVar(&s.Dir, "dir", s.Dir, "`folder` where received files are saved")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return s, err
		}
		return s, errors.New("bad command line") // flag has said what
	}
	switch fs.NArg() {
	case 0:
		return s, errors.New("a nickname is needed")
	case 1:
		s.Nickname = fs.Arg(0)
	default:
		return s, fmt.Errorf("one nickname only, got %d arguments (flags go before the nickname)", fs.NArg())
	}
	if s.Server == "" {
		return s, errors.New("--server must not be empty")
	}
	return s, nil
}
