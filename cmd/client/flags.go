package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"pcx/internal/bytesize"
)

// writeTimeout bounds a write to the server that makes no progress.
const writeTimeout = 30 * time.Second

// DefaultServer is where the client connects unless told otherwise.
const DefaultServer = "127.0.0.1:23480"

// version is set at build time (-ldflags "-X main.version=v1.2.3"); when
// it is not, the module's version or VCS revision stands in.
var version = ""

// settings is everything the command line and the environment can set.
type settings struct {
	Server    string
	Dir       string
	Nickname  string
	MaxFile   byteSize // largest received file kept
	MinFree   byteSize // disk that must stay free in Dir
	JSON      bool     // JSON lines in and out, for programs
	Reconnect bool
	Seconds   bool
	NoBell    bool
	TLS       tlsSettings
}

// errVersion is parseSettings' answer to --version.
var errVersion = errors.New("version asked")

const usage = `pcx-client: chat with everyone on a pcx server, and swap files.

Usage:
  pcx-client [flags] NICKNAME

NICKNAME is the name the others see: 1 to 32 printable characters, no
spaces, no \ and no ". If it is taken, you are asked for another one (when
input is a terminal; otherwise the client exits with status 1).

Type a message and press Enter; then type the path of a file to send with
it, or just press Enter to send the text alone. Messages from the others
appear above the line you are typing, as
  <15:04> Olga: hello
          │ a second line of the same message
          └ file "photo.jpg" saved as "photo.jpg"
and the files they send are saved in the download folder, never over an
existing file (photo (1).jpg, ...). /who lists who is online, /help the
commands; //text sends a text that starts with /. Leave with \q, Ctrl-D
or Ctrl-C.

When input is not a terminal, lines are read in pairs, a text then a path
or an empty line, and the client leaves at the end of input once all is
sent. With --json, programs write one JSON object a line,
{"text":"...","file":"path"}, and read one a line for each event (see
README).

Exit status: 0 when you leave, 1 when the server cannot be reached, refuses
the nickname or goes away (or, with --json, a file could not be sent), 2
for a bad command line.

Flags (a flag wins over its PCX_ environment variable):
`

// parseSettings reads the flags in args over the environment over the
// defaults. --help and --version give flag.ErrHelp and errVersion, having
// written their answer to stdout.
func parseSettings(args []string, getenv func(string) string, stdout, stderr io.Writer) (settings, error) {
	s := settings{Server: DefaultServer, Dir: ".", MaxFile: 1 << 30, MinFree: 1 << 30}
	if v := getenv("PCX_SERVER"); v != "" {
		s.Server = v
	}
	for name, p := range map[string]*byteSize{"PCX_MAX_FILE": &s.MaxFile, "PCX_MIN_FREE": &s.MinFree} {
		if v := getenv(name); v != "" {
			if err := p.Set(v); err != nil {
				return s, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	fs := flag.NewFlagSet("pcx-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // --help is answered below, on stdout
	var showVersion bool
	fs.StringVar(&s.Server, "server", s.Server, "server address `host:port` (env PCX_SERVER)")
	fs.StringVar(&s.Dir, "dir", s.Dir, "`folder` where received files are saved")
	fs.Var(&s.MaxFile, "max-file", "largest received file kept; a larger one is dropped with a notice (env PCX_MAX_FILE)")
	fs.Var(&s.MinFree, "min-free", "disk space that must stay free in --dir; a file that would leave less is dropped (env PCX_MIN_FREE)")
	fs.BoolVar(&s.JSON, "json", false, "read {\"text\":…,\"file\":…} lines, write one JSON event a line (for bots)")
	fs.BoolVar(&s.Reconnect, "reconnect", false, "when the server is lost, dial again (1 s doubling to 30 s) and log in again")
	fs.BoolVar(&s.Seconds, "seconds", false, "show times as HH:MM:SS")
	fs.BoolVar(&s.NoBell, "no-bell", false, "do not ring the bell for a message that names you")
	fs.BoolVar(&showVersion, "version", false, "print the version and exit")
	defineTLSFlags(fs, &s.TLS)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return s, err
		}
		return s, errors.New("bad command line") // flag has said what
	}
	if showVersion {
		fmt.Fprintln(stdout, "pcx-client", buildVersion())
		return s, errVersion
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
	if err := resolveTLS(&s, getenv("PCX_SERVER") != "" || flagSet(fs, "server")); err != nil {
		return s, err
	}
	return s, nil
}

// buildVersion is version, or what the Go toolchain recorded in the binary.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, st := range info.Settings {
		if st.Key == "vcs.revision" && (v == "" || v == "(devel)") {
			v = st.Value
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v
}

// byteSize is a size in bytes written with an optional unit.
type byteSize = bytesize.Size

// flagSet tells whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
