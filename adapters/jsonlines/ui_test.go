package jsonlines_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"pcx/adapters/jsonlines"
	"pcx/ports"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRequestsBecomeTextsAndFiles(t *testing.T) {
	in := strings.Join([]string{
		`{"text":"hello\nsecond line","file":"/tmp/a.pdf"}`,
		``,
		`not json`,
		`{"text":"/not a command"}`,
		`{"text":"\\q"}`,
		`{"text":"\\\\srv\\share"}`,
		`{"command":"who"}`,
		`{"command":"kick"}`,
		`{"file":"only.bin"}`,
		`{"other":1}`,
	}, "\n")
	var out bytes.Buffer
	ui := jsonlines.New(strings.NewReader(in), &out, io.Discard, "dl")
	ctx := context.Background()
	var got []string
	for {
		text, err := ui.ReadLine(ctx, ports.PromptText)
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		file, err := ui.ReadLine(ctx, ports.PromptAttachment)
		require.NoError(t, err)
		got = append(got, text+"|"+file)
	}
	assert.Equal(t, []string{"hello\nsecond line|/tmp/a.pdf", "//not a command|", `\\q|`, `\\srv\share|`, "/who|", "|only.bin"}, got)
	assert.False(t, ui.Interactive())
	var errs []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &e))
		assert.Equal(t, "error", e["event"])
		errs = append(errs, e["text"].(string))
	}
	require.Len(t, errs, 3)
	assert.Contains(t, errs[0], "line 3")
	assert.Contains(t, errs[1], `unknown command "kick"`)
	assert.Contains(t, errs[2], "line 10")
}

func TestEventsAreOneJSONObjectALine(t *testing.T) {
	at := time.Date(2021, 9, 27, 12, 34, 56, 789000000, time.UTC)
	var out, errOut bytes.Buffer
	ui := jsonlines.New(strings.NewReader(""), &out, &errOut, "dl")
	ui.Show(ports.Event{Kind: ports.EventLoggedIn, Nickname: "Bot"})
	ui.Show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Olga", Text: "a\nb", Attachment: "../r.pdf", SavedAs: "r.pdf", Size: 3})
	ui.Show(ports.Event{Kind: ports.EventMessage, Time: at, Nickname: "Olga", Text: "x", Attachment: "big", SaveError: "too big", Size: 9})
	ui.Show(ports.Event{Kind: ports.EventNotice, Time: at, Nickname: "SERVER", Text: `User "Ivan" connected`})
	ui.Show(ports.Event{Kind: ports.EventWho, Time: at, Nickname: "SERVER", Text: "Online (1): Bot", Users: []string{"Bot"}})
	ui.Show(ports.Event{Kind: ports.EventError, Text: "cannot attach", Attachment: "x"})
	ui.Show(ports.Event{Kind: ports.EventLost, Text: "EOF", Retry: 2 * time.Second})
	ui.Show(ports.Event{Kind: ports.EventLost, Text: "EOF"})

	want := []string{
		`{"event":"message","time":"2021-09-27T12:34:56.789Z","nickname":"Olga","text":"a\nb","file":{"name":"../r.pdf","path":"` + filepath.Join("dl", "r.pdf") + `","size":3}}`,
		`{"event":"message","time":"2021-09-27T12:34:56.789Z","nickname":"Olga","text":"x","file":{"name":"big","size":9,"error":"too big"}}`,
		`{"event":"notice","time":"2021-09-27T12:34:56.789Z","text":"User \"Ivan\" connected"}`,
		`{"event":"who","time":"2021-09-27T12:34:56.789Z","text":"Online (1): Bot","users":["Bot"]}`,
		`{"event":"error","text":"cannot attach","file":{"name":"x","size":0}}`,
		`{"event":"lost","text":"EOF","retry_seconds":2}`,
		`{"event":"lost","text":"EOF"}`,
	}
	assert.Equal(t, strings.Join(want, "\n")+"\n", out.String())
	assert.Equal(t, "* logged in as Bot\n", errOut.String())
}

func TestAFileWaitsForItsTextWhenTheAttachmentPromptIsCut(t *testing.T) {
	ui := jsonlines.New(strings.NewReader(`{"text":"t","file":"f"}`+"\n"), io.Discard, io.Discard, "dl")
	text, err := ui.ReadLine(context.Background(), ports.PromptText)
	require.NoError(t, err)
	assert.Equal(t, "t", text)
	cut, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = ui.ReadLine(cut, ports.PromptAttachment)
	require.ErrorIs(t, err, context.Canceled)
	file, err := ui.ReadLine(context.Background(), ports.PromptAttachment)
	require.NoError(t, err)
	assert.Equal(t, "f", file)
}
