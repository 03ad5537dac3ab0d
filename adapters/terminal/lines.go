package terminal

import (
	"bufio"
	"context"
	"io"
	"strings"

	"pcx/ports"
)

// lineReader makes a blocking line source answer to a context: each read
// runs in a goroutine of its own, and a caller whose context ends stops
// waiting. The read still in flight is then kept for the next call; it
// finishes when input comes or ends (a read of a terminal cannot be
// interrupted), so a UI that stops being read leaves one goroutine behind
// until then.
type lineReader struct {
	read func(ports.Prompt) (string, error)
	// done carries the result of the read in flight; it has room for it,
	// so the reading goroutine never waits for a caller.
	done chan lineResult
	// busy is set while a read is in flight. Only the goroutine calling
	// readLine touches it (ports.UI allows one).
	busy bool
}

type lineResult struct {
	line string
	err  error
}

func newLineReader(read func(ports.Prompt) (string, error)) *lineReader {
	return &lineReader{read: read, done: make(chan lineResult, 1)}
}

func (l *lineReader) readLine(ctx context.Context, p ports.Prompt) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if !l.busy {
		l.busy = true
		go func() {
			line, err := l.read(p)
			l.done <- lineResult{line, err}
		}()
	}
	select {
	case r := <-l.done:
		l.busy = false
		return r.line, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// scriptReader reads lines from a stream; a last line without a line break
// still counts, and a carriage return before the break is dropped.
type scriptReader struct {
	r   *bufio.Reader
	err error // sticky, once the stream has ended
}

func newScriptReader(in io.Reader) *scriptReader {
	return &scriptReader{r: bufio.NewReader(in)}
}

func (s *scriptReader) readLine(ports.Prompt) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	line, err := s.r.ReadString('\n')
	if err != nil {
		s.err = err
		if line == "" {
			return "", err
		}
	}
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r"), nil
}
