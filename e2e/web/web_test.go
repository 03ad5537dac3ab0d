package web_test

import (
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/websocket"
)

func TestBrowsersAndATerminalExchangeTextsAndFiles(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	s := startServer(t)
	ana := newTab(t, true)
	ana.open(s, "Ana")
	bob := newTab(t, true)
	bob.open(s, "Bob")
	cli := startTerminal(t, s, "Cli")

	// Texts: browser to browser and terminal, terminal to both browsers.
	ana.say("hello from Ana", "")
	bob.waitMessage("Ana", "hello from Ana")
	cli.stdout.waitFor(t, "Ana: hello from Ana")
	// Shift+Enter is a new line in the message, Enter sends it.
	ana.do(chromedp.SendKeys(chromedp.CSS("#text"), "two"))
	ana.pressEnter(true)
	ana.say("lines", "")
	bob.waitMessage("Ana", "two\nlines")
	assert.Empty(t, eval[string](ana, `document.getElementById("text").value`), "the box is empty after sending")
	cli.say(t, "hi from the terminal", "")
	ana.waitMessage("Cli", "hi from the terminal")
	bob.waitMessage("Cli", "hi from the terminal")

	// A file from the terminal reaches both browsers whole.
	fromCli := randomFile(t, "data.bin", 700<<10+123)
	cli.say(t, "a file from the terminal", fromCli)
	for _, tb := range []*tab{ana, bob} {
		tb.waitMessage("Cli", "a file from the terminal")
		hash, size := tb.fileHash("Cli", "data.bin")
		assert.Equal(t, sha256File(t, fromCli), hash, "the browser's copy of data.bin")
		assert.Equal(t, strconv.Itoa(700<<10+123), size)
	}

	// A file from a browser, sent in slices, reaches the terminal and the
	// other browser whole; an image is previewed.
	fromBob := randomFile(t, "picture.png", 3<<20+5)
	watchProgress(ana, "#log")
	watchProgress(bob, "#upload")
	bob.say("a file from Bob", fromBob)
	cli.stdout.waitFor(t, "Bob: a file from Bob")
	cli.stdout.waitFor(t, `└ file "picture.png" saved as "picture.png"`)
	assert.Equal(t, sha256File(t, fromBob), sha256File(t, filepath.Join(cli.dir, "picture.png")))
	hash, _ := ana.fileHash("Bob", "picture.png")
	assert.Equal(t, sha256File(t, fromBob), hash, "Ana's copy of picture.png")
	assert.True(t, eval[bool](ana, `!!document.querySelector("#log a.file[data-name='picture.png'] img")`), "the image is previewed")
	assert.True(t, eval[bool](ana, `window.sawProgress`), "Ana saw the file's progress while it arrived")
	assert.True(t, eval[bool](bob, `window.sawProgress`), "Bob saw the upload's progress")
	// Bob sees his own message once, with his file.
	assert.True(t, eval[bool](bob, messageJS("Bob", "a file from Bob")+`.querySelector("a.file") !== null`))

	// Who is online, as Ana has seen the others arrive.
	ana.waitJS("Bob and Cli online", `(() => { const w = document.getElementById("who").textContent; return w.includes("Bob") && w.includes("Cli") && w.includes("Ana"); })()`)
	// SERVER notices are set apart.
	assert.True(t, eval[bool](ana, `!!`+messageJS("SERVER", `User "Cli" connected`)+`.classList.contains("notice")`))
}

func TestARefusedNicknameShowsTheReasonAndAnotherTry(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	s := startServer(t)
	startTerminal(t, s, "Taken")
	tb := newTab(t, false)
	tb.do(chromedp.Navigate(s.url()), chromedp.WaitVisible(chromedp.CSS("#nickname")))

	tb.login("taken")
	tb.waitJS("the reason", `document.getElementById("loginError").textContent.includes("this nickname is already taken")`)
	tb.login("SERVER")
	tb.waitJS("the reason", `document.getElementById("loginError").textContent.includes("this nickname is already taken") && !document.getElementById("join").disabled`)
	tb.login("Free")
	tb.waitJS("the chat", `document.getElementById("chat").classList.contains("on")`)
	assert.Equal(t, "Free", eval[string](tb, `document.getElementById("me").textContent`))
}

func TestTextIsShownAsTextNeverAsHTML(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	s := startServer(t)
	tb := newTab(t, false)
	tb.open(s, "Reader")
	cli := startTerminal(t, s, "Mallory")
	const xss = `<img src=x onerror=alert(1)>`

	cli.say(t, xss, "")
	tb.waitMessage("Mallory", xss)
	tb.say(xss+"<script>alert(2)</script>", "")
	cli.stdout.waitFor(t, "Reader: "+xss)

	assert.Zero(t, eval[int](tb, `document.querySelectorAll("#log img, #log script").length`), "no element was made from the text")
	assert.Zero(t, tb.dialogs.Load(), "no alert was shown")
}

func TestThePageLogsInAgainAfterAReloadAndAServerRestart(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	s := startServer(t)
	tb := newTab(t, false)
	tb.open(s, "Ana")

	// A reload logs in again as the same nickname, though the server may
	// not yet have seen the old page's connection end.
	tb.do(chromedp.Reload())
	tb.waitJS("the login after the reload", `document.getElementById("state").textContent === "connected as Ana"`)

	s.stop()
	tb.waitJS("the lost connection", `document.getElementById("state").classList.contains("down") && document.getElementById("log").textContent.includes("Connection lost")`)
	s.start()
	tb.waitJS("a new login", `document.getElementById("state").textContent === "connected as Ana"`)
	cli := startTerminal(t, s, "Cli")
	cli.say(t, "welcome back", "")
	tb.waitMessage("Cli", "welcome back")
}

func TestThePageAndItsPolicy(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts the server binary")
	}
	s := startServer(t)
	resp, err := http.Get(s.url())
	require.NoError(t, err)
	resp.Body.Close()

	csp := resp.Header.Get("Content-Security-Policy")
	assert.Regexp(t, regexp.MustCompile(`script-src 'sha256-[A-Za-z0-9+/=]+'`), csp)
	assert.Contains(t, csp, "default-src 'none'")
	assert.Contains(t, s.log.String(), "open http://"+s.web+"/", "the URL to open is logged")

	// A page of another site may not use the server's WebSocket.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err = websocket.Dialer{Origin: "https://evil.example"}.Dial(ctx, s.web)
	var refused *websocket.UpgradeError
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, http.StatusForbidden, refused.Status)
	// The page's own origin may, and the connection is an ordinary one:
	// a login on it is answered.
	conn, err := websocket.Dialer{Origin: "http://" + s.web}.Dial(ctx, s.web)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.Writer().WriteFrames([][]byte{[]byte(`{"nickname":"Probe"}`)}))
	reply, err := conn.Reader().ReadRecord(nil, 1<<10)
	require.NoError(t, err)
	assert.Equal(t, `{"status":"success"}`, string(reply))
}

// watchProgress has the page note (in window.sawProgress) whether a
// progress bar ever shows inside the element sel, however briefly.
func watchProgress(tb *tab, sel string) {
	tb.t.Helper()
	eval[bool](tb, `(() => {
		const root = document.querySelector(`+js(sel)+`);
		window.sawProgress = false;
		const seen = () => { if (root.offsetParent !== null && root.querySelector("progress")) window.sawProgress = true; };
		new MutationObserver(seen).observe(root, { childList: true, subtree: true, attributes: true });
		return true;
	})()`)
}
