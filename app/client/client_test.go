package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.uber.org/mock/gomock"

	"pcx/app/client"
	"pcx/ports"
	"pcx/ports/mocks"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestUnreachableServerIsOneError(t *testing.T) {
	h := newHarness(t, false)
	h.dialer.EXPECT().Dial(gomock.Any(), "server:1").Return(nil, syscall.ECONNREFUSED)

	err := h.run()

	require.ErrorIs(t, err, client.ErrUnreachable)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Contains(t, err.Error(), "server:1")
}

func TestLoginThenEndOfInputLeavesCleanly(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho)
	h.server(rec(status("success")))

	require.NoError(t, h.run())
	assert.Equal(t, []ports.Event{{Kind: ports.EventLoggedIn, Nickname: "Ivan"}}, h.shown(ports.EventLoggedIn), "the user is told they are in")
}

func TestRefusedNicknameEndsAScriptWithTheServersReason(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"))
	h.server(rec(status("error: this nickname is already taken")))

	err := h.run()

	require.ErrorIs(t, err, client.ErrNicknameRefused)
	assert.Contains(t, err.Error(), "this nickname is already taken")
}

func TestRefusedNicknameIsAskedAgainInATerminal(t *testing.T) {
	h := newHarness(t, true)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentRec("nickname=Ivan2"), sentWho, sentRec("text=hi"))
	h.server(rec(status("error: this nickname is already taken")), rec(status("success")).after(2))
	h.user(nickname(""), nickname("Ivan2"), text("hi"), attach(""))

	require.NoError(t, h.run())
	assert.Equal(t, []string{`the server refused the nickname "Ivan": this nickname is already taken`}, h.texts(ports.EventError))
}

func TestQuitAtTheNicknamePromptLeavesCleanly(t *testing.T) {
	h := newHarness(t, true)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"))
	h.server(rec(status("error: this nickname is already taken")))
	h.user(nickname(`\q`))

	require.NoError(t, h.run())
}

func TestInvalidNicknameIsNeverSent(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.server()

	err := h.client.Run(context.Background(), client.Config{Server: "server:1", Nickname: "two words"})

	require.ErrorIs(t, err, client.ErrNicknameRefused)
	assert.Contains(t, err.Error(), `"two words"`)
}

func TestUnreadableLoginReplyIsAProtocolFailure(t *testing.T) {
	for name, f := range map[string]frame{
		"not a record":       {raw: []byte("garbage")},
		"neither ok nor err": rec(status("maybe")),
		"connection closed":  readErr(io.EOF),
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, false)
			h.dialOK()
			h.expectSent(sentRec("nickname=Ivan"))
			h.server(f)

			require.ErrorIs(t, h.run(), client.ErrConnectionLost)
		})
	}
}

// The reference server relays messages to connections that have not
// logged in yet: before its login reply the client skips them, files too.
func TestRecordsBeforeTheLoginReplyAreSkipped(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho)
	h.server(rec(relay("Olga", "too early")), rec(relayFile("Olga", "early file", "a.bin")), file([]byte("dropped")),
		rec(status("success")), rec(relay("Olga", "in time")))
	h.user(step{prompt: ports.PromptText, err: io.EOF, waitShown: 2})
	require.NoError(t, h.run())
	assert.Equal(t, []string{"in time"}, h.texts(ports.EventMessage))
}

// A server that hangs up after refusing a nickname (the reference does) is
// reported at once, while the person is still asked for another one.
func TestARefusalFollowedByAHangUpIsALossAtOnce(t *testing.T) {
	h := newHarness(t, true)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"))
	h.server(rec(status("error: this nickname is already taken")), readErr(io.EOF))
	h.user(blockAt(ports.PromptNickname))
	err := h.run()
	require.ErrorIs(t, err, client.ErrConnectionLost)
	assert.ErrorIs(t, err, io.EOF)
	assert.Contains(t, err.Error(), "closed the connection after refusing the nickname")
	assert.Equal(t, 1, h.stepsLeft(), "no other nickname was asked for")
}

func TestTextsAreSentInOrderAndEmptyOnesSkipped(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho, sentRec("text=Hello"), sentRec("text=second"))
	h.server(rec(status("success")))
	h.user(text("Hello"), attach(""), text(""), attach(""), text("second"), attach(""))

	require.NoError(t, h.run())
}

func TestAFileGoesRightAfterItsRecord(t *testing.T) {
	content := []byte("JPEG bytes")
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho, sentRec("text=look", "attachment=photo.jpg"), sentFile(content))
	h.server(rec(status("success")))
	h.uploads.EXPECT().Open("/tmp/photo.jpg").Return(upload("photo.jpg", content), nil)
	h.user(text("look"), attach("/tmp/photo.jpg"))

	require.NoError(t, h.run())
}

func TestAFileThatCannotBeSentNeverLosesTheText(t *testing.T) {
	cases := []struct {
		name    string
		open    func(*harness)
		problem string
	}{
		{
			name: "missing file",
			open: func(h *harness) {
				h.uploads.EXPECT().Open("bad").Return(ports.Upload{}, errors.New("no such file"))
			},
			problem: "no such file",
		},
		{
			name: "empty file",
			open: func(h *harness) {
				h.uploads.EXPECT().Open("bad").Return(upload("empty.txt", nil), nil)
			},
			problem: "the file is empty",
		},
		{
			name: "name the protocol refuses",
			open: func(h *harness) {
				h.uploads.EXPECT().Open("bad").Return(upload("a\x1bb", []byte("x")), nil)
			},
			problem: "control characters",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name+", in a script the text goes alone", func(t *testing.T) {
			h := newHarness(t, false)
			h.dialOK()
			h.expectSent(sentRec("nickname=Ivan"), sentWho, sentRec("text=keep me"))
			h.server(rec(status("success")))
			tc.open(h)
			h.user(text("keep me"), attach("bad"))

			require.NoError(t, h.run())
			errs := h.texts(ports.EventError)
			require.Len(t, errs, 1)
			assert.Contains(t, errs[0], tc.problem)
			assert.Contains(t, errs[0], "the text goes without it")
		})
		t.Run(tc.name+", in a terminal the user is asked again", func(t *testing.T) {
			content := []byte("x")
			h := newHarness(t, true)
			h.dialOK()
			h.expectSent(sentRec("nickname=Ivan"), sentWho, sentRec("text=keep me", "attachment=good.txt"), sentFile(content))
			h.server(rec(status("success")))
			tc.open(h)
			h.uploads.EXPECT().Open("good").Return(upload("good.txt", content), nil)
			h.user(text("keep me"), attach("bad"), attach("good"))

			require.NoError(t, h.run())
			errs := h.texts(ports.EventError)
			require.Len(t, errs, 1)
			assert.Contains(t, errs[0], tc.problem)
		})
	}
}

func TestQuitOrEndOfInputAtTheAttachmentPromptStillSendsTheText(t *testing.T) {
	for name, last := range map[string]step{
		`\q`:           attach(`\q`),
		"end of input": eof(ports.PromptAttachment),
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, false)
			h.dialOK()
			h.expectSent(sentRec("nickname=Ivan"), sentWho, sentRec("text=bye"))
			h.server(rec(status("success")))
			h.user(text("bye"), last, text("never read"))

			require.NoError(t, h.run())
		})
	}
}

func TestQuitAtTheTextPromptSendsNothingMore(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho)
	h.server(rec(status("success")))
	h.user(text(`\q`), text("never read"))

	require.NoError(t, h.run())
}

func TestATooLongMessageIsRefusedBeforeItIsSent(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho, sentRec("text=short"))
	h.server(rec(status("success")))
	h.user(text(strings.Repeat("x", 70<<10)), attach(""), text("short"), attach(""))

	require.NoError(t, h.run())
	errs := h.texts(ports.EventError)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0], "message too long")
}

func TestMessagesAndNoticesAreShownAsTheyArrive(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho)
	h.server(rec(status("success")), rec(relay("SERVER", `User "Olga" connected`)), rec(relay("Olga", "Hi Ivan")))
	h.user(step{prompt: ports.PromptText, err: io.EOF, waitShown: 3})

	require.NoError(t, h.run())
	assert.Equal(t, []ports.Event{
		{Kind: ports.EventNotice, Time: at, Nickname: "SERVER", Text: `User "Olga" connected`},
		{Kind: ports.EventMessage, Time: at, Nickname: "Olga", Text: "Hi Ivan"},
	}, h.shown(ports.EventMessage, ports.EventNotice))
}

func TestAReceivedFileIsSavedAndTheMessageSaysWhere(t *testing.T) {
	content := []byte("PNG")
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho)
	h.server(rec(status("success")), rec(relayFile("Olga", "look", "../../x.png")), file(content), rec(relay("Olga", "after")))
	h.store.EXPECT().Save("../../x.png", int64(3), gomock.Any()).DoAndReturn(func(_ string, n int64, r io.Reader) (string, error) {
		got, err := io.ReadAll(io.LimitReader(r, n))
		require.NoError(t, err)
		assert.Equal(t, content, got)
		return "x.png", nil
	})
	h.user(step{prompt: ports.PromptText, err: io.EOF, waitShown: 3})

	require.NoError(t, h.run())
	assert.Equal(t, []ports.Event{
		{Kind: ports.EventMessage, Time: at, Nickname: "Olga", Text: "look", Attachment: "../../x.png", SavedAs: "x.png", Size: 3},
		{Kind: ports.EventMessage, Time: at, Nickname: "Olga", Text: "after"},
	}, h.shown(ports.EventMessage))
}

func TestAFileThatCannotBeSavedIsReportedAndTheChatGoesOn(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho)
	h.server(rec(status("success")), rec(relayFile("Olga", "look", "x.png")), file([]byte("PNG")), rec(relay("Olga", "after")))
	h.store.EXPECT().Save("x.png", int64(3), gomock.Any()).DoAndReturn(func(_ string, n int64, r io.Reader) (string, error) {
		_, err := io.Copy(io.Discard, io.LimitReader(r, n)) // the store keeps the stream in step
		require.NoError(t, err)
		return "", errors.New("downloads: no space left on device")
	})
	h.user(step{prompt: ports.PromptText, err: io.EOF, waitShown: 3})

	require.NoError(t, h.run())
	msgs := h.shown(ports.EventMessage)
	require.Len(t, msgs, 2)
	assert.Equal(t, "downloads: no space left on device", msgs[0].SaveError)
	assert.Empty(t, msgs[0].SavedAs)
	assert.Equal(t, "after", msgs[1].Text)
}

func TestAFileCutOffByTheServerIsALostConnection(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWhoIfInTime)
	h.server(rec(status("success")), rec(relayFile("Olga", "look", "x.png")))
	h.in.EXPECT().ReadPayload().Return(int64(10), io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(io.ErrUnexpectedEOF)), nil)
	h.store.EXPECT().Save("x.png", int64(10), gomock.Any()).DoAndReturn(func(_ string, n int64, r io.Reader) (string, error) {
		_, err := io.Copy(io.Discard, io.LimitReader(r, n))
		return "", err
	})
	h.user(blockAt(ports.PromptText))

	err := h.run()

	require.ErrorIs(t, err, client.ErrConnectionLost)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Empty(t, h.shown(ports.EventMessage), "a message whose file never came whole is not shown")
}

func TestALostServerEndsAPromptAtOnce(t *testing.T) {
	h := newHarness(t, true)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWhoIfInTime)
	h.server(rec(status("success")), readErr(syscall.ECONNRESET))
	h.user(blockAt(ports.PromptText))

	err := h.run()

	require.ErrorIs(t, err, client.ErrConnectionLost)
	assert.ErrorIs(t, err, syscall.ECONNRESET)
}

func TestAFailedSendEndsTheSession(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.out.EXPECT().WriteFrames(gomock.Any()).Return(nil)
	h.out.EXPECT().WriteFrames(gomock.Any()).Return(syscall.EPIPE)
	h.server(rec(status("success")))
	h.user(text("hi"), attach(""), text("never read"))

	err := h.run()

	require.ErrorIs(t, err, client.ErrConnectionLost)
	assert.ErrorIs(t, err, syscall.EPIPE)
}

func TestUnreadableRecordsAreSkippedAndTheirPayloadsDropped(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho)
	noText := fields{"nickname", "Olga", "attachment", "a.bin"}
	h.server(rec(status("success")), frame{raw: []byte("garbage")}, rec(noText), file([]byte("dropped")), rec(relay("Olga", "still here")))
	h.user(step{prompt: ports.PromptText, err: io.EOF, waitShown: 4})

	require.NoError(t, h.run())
	assert.Equal(t, []string{"still here"}, h.texts(ports.EventMessage))
	assert.Len(t, h.shown(ports.EventError), 2)
}

func TestAnOverlongRecordIsSkipped(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWhoIfInTime)
	h.server(rec(status("success")), readErr(&ports.FrameTooLargeError{Len: 2 << 20, Max: 1 << 20}), rec(relay("Olga", "next")))
	h.user(step{prompt: ports.PromptText, err: io.EOF, waitShown: 3})

	require.NoError(t, h.run())
	assert.Equal(t, []string{"next"}, h.texts(ports.EventMessage))
}

func TestCancellingTheContextLeavesCleanly(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWhoIfInTime)
	h.server(rec(status("success")))
	h.user(blockAt(ports.PromptText))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		h.mu.Lock()
		for len(h.events) == 0 {
			h.cond.Wait()
		}
		h.mu.Unlock()
		cancel()
	}()

	require.NoError(t, h.client.Run(ctx, client.Config{Server: "server:1", Nickname: "Ivan"}))
}

func TestLeavingHalfClosesAndWaitsForTheServer(t *testing.T) {
	h := newHarness(t, false)
	h.halfClosed = make(chan struct{})
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho, sentRec("text=last"))
	gomock.InOrder(
		h.in.EXPECT().ReadRecord(gomock.Any(), gomock.Any()).Return(encode(status("success")), nil),
		h.in.EXPECT().ReadRecord(gomock.Any(), gomock.Any()).DoAndReturn(func([]byte, int) ([]byte, error) {
			<-h.halfClosed // the server sees the end of the stream
			return encode(relay("Olga", "late but shown")), nil
		}),
		h.in.EXPECT().ReadRecord(gomock.Any(), gomock.Any()).Return(nil, io.EOF), // then closes
	)
	h.user(text("last"), attach(""))

	require.NoError(t, h.run())
	assert.Equal(t, []string{"late but shown"}, h.texts(ports.EventMessage))
}

func TestAFileThatShrinksWhileSentEndsTheSessionSayingSo(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho, sentRec("text=log", "attachment=app.log"))
	h.out.EXPECT().WritePayload(int64(10), gomock.Any()).Return(fmt.Errorf("framing: payload source ended after 3 of 10 bytes: %w", io.ErrUnexpectedEOF))
	h.server(rec(status("success")))
	h.uploads.EXPECT().Open("app.log").Return(upload("app.log", []byte("0123456789")), nil)
	h.user(text("log"), attach("app.log"), blockAt(ports.PromptText))

	err := h.run()

	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.NotErrorIs(t, err, client.ErrConnectionLost)
	assert.Contains(t, err.Error(), `"app.log" got shorter while it was being sent`)
}

func TestCommandsAndEscapes(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho, sentWho, sentRec("text=/who"), sentRec(`text=\q`), sentRec(`text=\\q`),
		sentRec(`text=\\srv\share`), sentRec("text=plain"))
	h.server(rec(status("success")))
	h.user(text("/who"), text("/help"), text("/nope x"), text("//who"), attach(""), text(`\\q`), attach(""), text(`\\\q`), attach(""),
		text(`\\srv\share`), attach(""), text("plain"), attach(""))
	require.NoError(t, h.run())
	infos := h.texts(ports.EventInfo)
	require.Len(t, infos, 1)
	assert.Contains(t, infos[0], "/who")
	errs := h.texts(ports.EventError)
	require.NotEmpty(t, errs)
	assert.Contains(t, errs[0], `unknown command "/nope"`)
}

func TestTheServersListIsShownAsWho(t *testing.T) {
	who := append(relay("SERVER", "Online (2): Ivan, Olga"), "users", list("Ivan", "Olga"))
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho)
	h.server(rec(status("success")), rec(who))
	h.user(step{prompt: ports.PromptText, err: io.EOF, waitShown: 2})
	require.NoError(t, h.runWith(client.Config{WhoTimeout: 50 * time.Millisecond}))
	assert.Equal(t, []ports.Event{{Kind: ports.EventWho, Time: at, Nickname: "SERVER", Text: "Online (2): Ivan, Olga", Users: []string{"Ivan", "Olga"}}},
		h.shown(ports.EventWho))
	time.Sleep(100 * time.Millisecond) // past the timeout: no complaint comes, the list did
	assert.Empty(t, h.texts(ports.EventError))
}

func TestAServerWithoutWhoIsSaidToBeUnableToList(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho)
	h.server(rec(status("success")))
	h.user(step{prompt: ports.PromptText, err: io.EOF, waitShown: 2})
	require.NoError(t, h.runWith(client.Config{WhoTimeout: 10 * time.Millisecond}))
	assert.Equal(t, []string{"the server did not answer /who: it cannot list users"}, h.texts(ports.EventError))
}

func TestStrictFilesMakesAnUnsentFileAnError(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWho, sentRec("text=keep me"))
	h.server(rec(status("success")))
	h.uploads.EXPECT().Open("bad").Return(ports.Upload{}, errors.New("no such file"))
	h.user(text("keep me"), attach("bad"))
	err := h.runWith(client.Config{StrictFiles: true})
	require.ErrorIs(t, err, client.ErrFilesNotSent)
}

func TestALossIsShownAsAnEvent(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.expectSent(sentRec("nickname=Ivan"), sentWhoIfInTime)
	h.server(rec(status("success")), readErr(io.EOF))
	h.user(blockAt(ports.PromptText))
	require.ErrorIs(t, h.run(), client.ErrConnectionLost)
	assert.Equal(t, []ports.Event{{Kind: ports.EventLost, Text: "EOF"}}, h.shown(ports.EventLost))
}

func TestTheUserCanLeaveWhileTheClientWaitsToReconnect(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	h.dialer.EXPECT().Dial(gomock.Any(), "server:1").Return(nil, syscall.ECONNREFUSED).AnyTimes()
	h.expectSent(sentRec("nickname=Ivan"), sentWhoIfInTime)
	h.server(rec(status("success")), readErr(io.EOF))
	h.user(blockAt(ports.PromptText), eof(ports.PromptText))
	require.NoError(t, h.runWith(client.Config{Reconnect: true, RetryMin: time.Hour}), "end of input leaves, without waiting an hour")
	lost := h.shown(ports.EventLost)
	require.Len(t, lost, 1)
	assert.Equal(t, time.Hour, lost[0].Retry)
}

func TestATextTypedWhileOfflineGoesOnTheNextConnection(t *testing.T) {
	h := newHarness(t, false)
	h.dialOK()
	ctrl2 := gomock.NewController(t)
	conn2, in2, out2 := mocks.NewMockConn(ctrl2), mocks.NewMockFrameReader(ctrl2), mocks.NewMockFrameWriter(ctrl2)
	conn2.EXPECT().Reader().Return(in2).AnyTimes()
	conn2.EXPECT().Writer().Return(out2).AnyTimes()
	h.dialer.EXPECT().Dial(gomock.Any(), "server:1").Return(conn2, nil)
	h.expectSent(sentRec("nickname=Ivan"), sentWhoIfInTime)
	h.server(rec(status("success")), readErr(io.EOF))
	var sent []string
	var mu sync.Mutex
	out2.EXPECT().WriteFrames(gomock.Any()).DoAndReturn(func(b [][]byte) error {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, string(b[0]))
		return nil
	}).AnyTimes()
	closed2 := make(chan struct{})
	var once sync.Once
	conn2.EXPECT().Close().DoAndReturn(func() error { once.Do(func() { close(closed2) }); return nil }).AnyTimes()
	out2.EXPECT().CloseWrite(gomock.Any()).Return(errors.New("no half-close")).AnyTimes()
	gomock.InOrder(
		in2.EXPECT().ReadRecord(gomock.Any(), gomock.Any()).Return(encode(status("success")), nil),
		in2.EXPECT().ReadRecord(gomock.Any(), gomock.Any()).DoAndReturn(func([]byte, int) ([]byte, error) {
			<-closed2
			return nil, ports.ErrClosed
		}).AnyTimes(),
	)
	h.user(blockAt(ports.PromptText), text("typed offline"), attach(""))
	require.NoError(t, h.runWith(client.Config{Reconnect: true, RetryMin: 20 * time.Millisecond}))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"nickname=Ivan\x00", "command=who\x00", "text=typed offline\x00"}, sent)
	assert.Len(t, h.shown(ports.EventLoggedIn), 2)
}
