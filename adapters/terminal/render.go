package terminal

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"unicode"

	"github.com/rivo/uniseg"

	"pcx/ports"
)

// How a line on screen reads. Every line can be traced to exactly one
// event, with colour or without (NO_COLOR), whatever a peer sends:
//
//	<12:34> Olga: first line of a text            a message starts with the time
//	        │ its second line                     every further line of it: indent and │
//	        └ file "p.jpg" saved as p (1).jpg     its file: indent and └, never typed by a peer
//	<12:34> SERVER: User "Ivan" connected         a notice of the server
//	* logged in as Ivan …                         this client's own remarks
//	! cannot attach …                             this client's own warnings
//
// A text's line breaks (LF, U+2028, U+2029) start a continuation line, so a
// peer's text can never begin a line of its own. A nickname is shown bare
// when it is one the protocol allows (no whitespace, no ", no \, nothing
// invisible): then it ends at the first ": " of the line. Any other
// nickname (a server that is not ours may relay one) is shown as a Go
// quoted string, "x y", which no bare nickname can look like because a bare
// nickname never contains ".

// Line markers; see above.
const (
	markContinued = "│ "
	markFile      = "└ "
)

// rendered is an event as lines to print, with what they call for.
type rendered struct {
	lines   []string
	mention bool // the text names this client's user: ring the bell
}

// render turns an event into the lines that show it. self is the user's
// own nickname, "" before login.
func (ui *UI) render(e ports.Event, self string) rendered {
	switch e.Kind {
	case ports.EventInfo, ports.EventSent, ports.EventLoggedIn, ports.EventLost:
		return rendered{lines: []string{ui.paint(colorInfo, "* "+oneLine(remark(e)))}}
	case ports.EventError:
		return rendered{lines: []string{ui.paint(colorError, "! "+oneLine(e.Text))}}
	}
	prefix := "<" + ui.stamp(e) + "> "
	indent := strings.Repeat(" ", len(prefix))
	var out rendered
	// One column is kept free: a line that fills the last column leaves
	// some terminals waiting to wrap.
	width := max(int(ui.width.Load())-1, 0)
	nick := displayNick(e.Nickname)
	if width > 0 {
		nick = truncate(nick, width-len(prefix)-3)
	}
	color := ui.nickColor(e.Nickname)
	text := clean(e.Text)
	if e.Kind == ports.EventWho {
		text = whoText(e.Users)
	}
	if e.Kind == ports.EventNotice || e.Kind == ports.EventWho {
		color = colorNotice
	} else if self != "" && mentions(text, self) {
		out.mention = true
	}
	first := width - len(prefix) - uniseg.StringWidth(nick) - 2
	rest := width - len(indent) - len(markContinued)
	var lines []string
	for i, line := range splitLines(text) {
		switch {
		case i > 0:
			lines = append(lines, wrap(line, rest, rest)...)
		case width > 0 && first < minWrapWidth:
			// No room after a long nickname: the text starts below it.
			lines = append(append(lines, ""), wrap(line, rest, rest)...)
		default:
			lines = append(lines, wrap(line, first, rest)...)
		}
	}
	for i, line := range lines {
		if i == 0 {
			body := line
			if out.mention {
				body = ui.paint(colorMention, line)
			}
			out.lines = append(out.lines, prefix+ui.paint(color, nick)+": "+body)
			continue
		}
		out.lines = append(out.lines, indent+ui.paint(colorMark, markContinued)+line)
	}
	if e.Attachment != "" || e.SavedAs != "" || e.SaveError != "" {
		avail := width - len(indent) - len(markFile)
		for i, piece := range wrap(fileLine(e), avail, avail) {
			mark := ui.paint(colorMark, markFile)
			if i > 0 {
				mark = strings.Repeat(" ", len(markFile)) // only the file line's own pieces start so
			}
			out.lines = append(out.lines, indent+mark+piece)
		}
	}
	return out
}

// stamp is the event's time as the local clock shows it.
func (ui *UI) stamp(e ports.Event) string {
	at := e.Time
	if at.IsZero() {
		at = ui.now()
	}
	if ui.opts.Seconds {
		return at.Local().Format("15:04:05")
	}
	return at.Local().Format("15:04")
}

// remark is what the client says of itself for an event of its own.
func remark(e ports.Event) string {
	switch e.Kind {
	case ports.EventLoggedIn:
		return fmt.Sprintf("logged in as %s; type a message, /help for help, or \\q to leave", displayNick(e.Nickname))
	case ports.EventSent:
		return fmt.Sprintf("sent %s (%s)", strconv.Quote(e.Attachment), HumanSize(e.Size))
	case ports.EventLost:
		if e.Retry > 0 {
			return fmt.Sprintf("the connection to the server is lost (%s); trying again in %s; what you type is kept", e.Text, e.Retry)
		}
		return "the connection to the server is lost (" + e.Text + ")"
	}
	return e.Text
}

// fileLine says what became of a message's file.
func fileLine(e ports.Event) string {
	if e.SavedAs != "" {
		return fmt.Sprintf("file %s saved as %s", strconv.Quote(e.Attachment), strconv.Quote(e.SavedAs))
	}
	return fmt.Sprintf("file %s not saved: %s", strconv.Quote(e.Attachment), oneLine(e.SaveError))
}

// whoText writes the list of who is online.
func whoText(users []string) string {
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = displayNick(u)
	}
	return fmt.Sprintf("online (%d): %s", len(users), strings.Join(names, ", "))
}

// displayNick shows a nickname bare when it is one the protocol allows,
// quoted otherwise (see the top of this file); one longer than any the
// protocol allows is cut short, with "…", so it never fills the screen.
func displayNick(nick string) string {
	if nick == "" {
		return `""`
	}
	for _, r := range nick {
		if r == '"' || r == '\\' || !unicode.IsGraphic(r) || unicode.IsSpace(r) || isInvisible(r) {
			return truncate(strconv.Quote(nick), maxNickColumns)
		}
	}
	return truncate(nick, maxNickColumns)
}

// maxNickColumns is the widest nickname shown whole: 32 wide characters.
const maxNickColumns = 64

// truncate cuts s to at most columns wide, "…" included.
func truncate(s string, columns int) string {
	if uniseg.StringWidth(s) <= columns || columns < 2 {
		return s
	}
	var b strings.Builder
	w := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() && w+g.Width() < columns {
		b.WriteString(g.Str())
		w += g.Width()
	}
	return b.String() + "…"
}

// wrap cuts a line of text into pieces that fit the screen, the first
// firstWidth columns wide, the others restWidth: left to the terminal, a
// long line would wrap at the screen's edge and its rest would start a line
// of its own, unmarked, where a peer could make it look like anything. A
// width too small to work with leaves the line whole.
func wrap(line string, firstWidth, restWidth int) []string {
	if firstWidth < minWrapWidth || restWidth < minWrapWidth || uniseg.StringWidth(line) <= firstWidth {
		return []string{line}
	}
	var out []string
	var cur strings.Builder
	curWidth, limit := 0, firstWidth
	g := uniseg.NewGraphemes(line)
	for g.Next() {
		w := g.Width()
		if curWidth+w > limit {
			out = append(out, cur.String())
			cur.Reset()
			curWidth, limit = 0, restWidth
		}
		cur.WriteString(g.Str())
		curWidth += w
	}
	return append(out, cur.String())
}

// minWrapWidth is the narrowest column a text is wrapped into.
const minWrapWidth = 8

// splitLines cuts a cleaned text at its line breaks.
func splitLines(text string) []string {
	return strings.Split(lineBreaks.Replace(text), "\n")
}

var lineBreaks = strings.NewReplacer("\u2028", "\n", "\u2029", "\n")

// oneLine makes a remark one line: line breaks become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, clean(s))
}

// mentions reports whether text names nick, in any case.
func mentions(text, nick string) bool {
	return strings.Contains(strings.ToLower(text), strings.ToLower(nick))
}

// Colours, as SGR parameters.
const (
	colorNotice  = "1;36" // bold cyan
	colorInfo    = "2"    // dim
	colorError   = "31"   // red
	colorMark    = "2"    // dim: the markers of continuation and file lines
	colorMention = "1;7"  // bold, reversed: a text that names the user
)

// nickPalette holds the colours nicknames are drawn in: none of them is
// the red of errors nor the cyan of the server.
var nickPalette = []string{"32", "33", "34", "35", "92", "93", "94", "95", "38;5;208", "38;5;141", "38;5;114", "38;5;180"}

// nickColor gives each nickname its own colour, the same in every run.
func (ui *UI) nickColor(nick string) string {
	h := fnv.New32a()
	h.Write([]byte(nick))
	return nickPalette[h.Sum32()%uint32(len(nickPalette))]
}

// paint wraps s in a colour when colour is on.
func (ui *UI) paint(color, s string) string {
	if !ui.opts.Color || s == "" {
		return s
	}
	return "\x1b[" + color + "m" + s + "\x1b[0m"
}

// HumanSize writes n bytes the way people read sizes.
func HumanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
