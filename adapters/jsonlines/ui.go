// Package jsonlines is the client's user interface for programs (ports.UI,
// the --json mode): it reads one JSON object a line from its input and
// writes one JSON object a line for each event, at once.
//
// Input, one object a line (blank lines are skipped):
//
//	{"text":"hello\nsecond line","file":"/path/to/report.pdf"}
//	{"command":"who"}
//
// "text" is sent as it is, line breaks included; "file" is optional.
// Output, one object a line:
//
//	{"event":"message","time":"2021-09-27T12:34:56.789Z","nickname":"Olga","text":"hi","file":{"name":"a.pdf","path":"dl/a.pdf","size":123}}
//	{"event":"notice","time":"…","text":"User \"Ivan\" connected"}
//	{"event":"who","time":"…","text":"Online (2): Ivan, Olga","users":["Ivan","Olga"]}
//	{"event":"error","text":"cannot attach \"x\": …","file":"x"}
//	{"event":"lost","text":"EOF","retry_seconds":2}
//
// A file that arrived but could not be saved has "error" in place of
// "path" in its "file". The client's other remarks (logged in, a file
// sent) go to the error stream as plain lines.
package jsonlines

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"pcx/ports"
)

// UI implements ports.UI over JSON lines.
type UI struct {
	dir string // the download folder, for the paths of saved files
	now func() time.Time

	in   *bufio.Reader
	read *pendingRead

	// file is the path given with the text just returned, for the
	// attachment prompt that follows. Only the goroutine calling ReadLine
	// touches it (ports.UI allows one), and lineNo.
	file   string
	lineNo int

	mu     sync.Mutex // serialises writes to out and errOut
	out    io.Writer
	errOut io.Writer
}

var _ ports.UI = (*UI)(nil)

// New returns a UI that reads requests from in and writes events to out,
// remarks to errOut; dir is the download folder, whose name goes in front
// of a saved file's name.
func New(in io.Reader, out, errOut io.Writer, dir string) *UI {
	ui := &UI{dir: dir, now: time.Now, in: bufio.NewReaderSize(in, 64<<10), out: out, errOut: errOut}
	ui.read = &pendingRead{done: make(chan readResult, 1)}
	return ui
}

// Interactive implements ports.UI: a program answers no questions.
func (ui *UI) Interactive() bool { return false }

// Track implements ports.UI: no progress is shown.
func (ui *UI) Track(_ string, _ int64, _ ports.Direction, r io.Reader) (io.Reader, func()) {
	return r, func() {}
}

// request is one input line.
type request struct {
	Text    *string `json:"text"`
	File    string  `json:"file"`
	Command string  `json:"command"`
}

// ReadLine implements ports.UI. At the text prompt it reads the next
// request and returns its text, escaped so that the client sends it as it
// is ("/x" is not a command); at the attachment prompt it returns the
// request's file.
func (ui *UI) ReadLine(ctx context.Context, p ports.Prompt) (string, error) {
	if p == ports.PromptAttachment {
		if err := ctx.Err(); err != nil {
			return "", err // the file stays for the text, asked again later
		}
		file := ui.file
		ui.file = ""
		return file, nil
	}
	for {
		line, err := ui.read.line(ctx, ui.in)
		if err != nil {
			return "", err
		}
		ui.lineNo++
		if strings.TrimSpace(line) == "" {
			continue
		}
		var req request
		if err := json.Unmarshal([]byte(line), &req); err != nil {
			ui.writeJSON(event{Event: "error", Text: fmt.Sprintf("input line %d is not a JSON object: %v", ui.lineNo, err)})
			continue
		}
		switch {
		case req.Command == "who":
			return "/who", nil
		case req.Command != "":
			ui.writeJSON(event{Event: "error", Text: fmt.Sprintf("input line %d: unknown command %q", ui.lineNo, req.Command)})
			continue
		case req.Text == nil && req.File == "":
			ui.writeJSON(event{Event: "error", Text: fmt.Sprintf(`input line %d has neither "text" nor "file"`, ui.lineNo)})
			continue
		}
		ui.file = req.File
		text := ""
		if req.Text != nil {
			text = *req.Text
		}
		if strings.HasPrefix(text, "/") || strings.TrimLeft(text, `\`) == "q" && text != "q" {
			text = text[:1] + text // the client takes one off: sent as given
		}
		return text, nil
	}
}

// event is one output line.
type event struct {
	Event    string    `json:"event"`
	Time     string    `json:"time,omitempty"`
	Nickname string    `json:"nickname,omitempty"`
	Text     string    `json:"text"`
	File     *fileInfo `json:"file,omitempty"`
	Users    []string  `json:"users,omitempty"`
	Retry    *float64  `json:"retry_seconds,omitempty"`
}

type fileInfo struct {
	Name  string `json:"name"`
	Path  string `json:"path,omitempty"`
	Size  int64  `json:"size"`
	Error string `json:"error,omitempty"`
}

// Show implements ports.UI.
func (ui *UI) Show(e ports.Event) {
	out := event{Text: e.Text}
	switch e.Kind {
	case ports.EventMessage:
		out.Event, out.Time, out.Nickname = "message", ui.stamp(e), e.Nickname
		if e.Attachment != "" || e.SavedAs != "" || e.SaveError != "" {
			out.File = &fileInfo{Name: e.Attachment, Size: e.Size, Error: e.SaveError}
			if e.SavedAs != "" {
				out.File.Path = filepath.Join(ui.dir, e.SavedAs)
			}
		}
	case ports.EventNotice:
		out.Event, out.Time = "notice", ui.stamp(e)
	case ports.EventWho:
		out.Event, out.Time, out.Users = "who", ui.stamp(e), e.Users
		if out.Users == nil {
			out.Users = []string{}
		}
	case ports.EventError:
		out.Event = "error"
		if e.Attachment != "" {
			out.File = &fileInfo{Name: e.Attachment}
		}
	case ports.EventLost:
		out.Event = "lost"
		if e.Retry > 0 {
			s := e.Retry.Seconds()
			out.Retry = &s
		}
	default:
		ui.remark(e)
		return
	}
	ui.writeJSON(out)
}

// stamp is the event's time in RFC 3339, UTC.
func (ui *UI) stamp(e ports.Event) string {
	at := e.Time
	if at.IsZero() {
		at = ui.now()
	}
	return at.UTC().Format(time.RFC3339Nano)
}

func (ui *UI) writeJSON(e event) {
	b, err := json.Marshal(e)
	if err != nil {
		return // cannot happen: strings, numbers and lists only
	}
	ui.mu.Lock()
	defer ui.mu.Unlock()
	ui.out.Write(append(b, '\n')) // one write a line: an *os.File is not buffered
}

// remark writes the client's other remarks as plain lines.
func (ui *UI) remark(e ports.Event) {
	var text string
	switch e.Kind {
	case ports.EventLoggedIn:
		text = "logged in as " + e.Nickname
	case ports.EventSent:
		text = fmt.Sprintf("sent %q (%d bytes)", e.Attachment, e.Size)
	default:
		text = e.Text
	}
	ui.mu.Lock()
	defer ui.mu.Unlock()
	fmt.Fprintf(ui.errOut, "* %s\n", strings.ReplaceAll(text, "\n", " "))
}

// pendingRead makes a blocking line read answer to a context: the read
// runs in a goroutine of its own, and one whose caller gave up is kept for
// the next call, so no line is lost.
type pendingRead struct {
	done chan readResult // room for one result: the reader never waits
	busy bool            // a read is in flight; touched by the ReadLine goroutine only
}

type readResult struct {
	line string
	err  error
}

func (p *pendingRead) line(ctx context.Context, in *bufio.Reader) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if !p.busy {
		p.busy = true
		go func() {
			line, err := in.ReadString('\n')
			if err == io.EOF && line != "" {
				err = nil // a last line without a line break still counts
			}
			p.done <- readResult{strings.TrimRight(line, "\r\n"), err}
		}()
	}
	select {
	case r := <-p.done:
		p.busy = false
		return r.line, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
