// Package web_test drives the chat page in a real headless Chromium
// against the real server binary, beside the real terminal client.
package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"pcx/internal/procout"
)

// wait bounds how long a test waits for something that must happen.
const wait = 20 * time.Second

// browser is the one Chromium every test opens its tabs in; nil when
// there is none (noBrowser says why).
var (
	browser   context.Context
	noBrowser string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	path := findChromium()
	if path == "" {
		noBrowser = "no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium)"
		return m.Run()
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1100, 800))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		noBrowser = "chromium at " + path + " did not start: " + err.Error()
		return m.Run()
	}
	browser = ctx
	code := m.Run()
	for _, dir := range builtDirs() {
		os.RemoveAll(dir)
	}
	return code
}

func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// needBrowser skips the test when there is no Chromium, except in CI,
// where the tests must run.
func needBrowser(t *testing.T) {
	t.Helper()
	if browser != nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set and the browser tests cannot run: " + noBrowser)
	}
	t.Skip("browser tests skipped: " + noBrowser)
}

// ---- binaries ----

var (
	builtMu sync.Mutex
	built   = map[string]string{}
)

// binary builds a command of the module once per run.
func binary(t *testing.T, pkg string) string {
	t.Helper()
	builtMu.Lock()
	defer builtMu.Unlock()
	if bin, ok := built[pkg]; ok {
		return bin
	}
	dir, err := os.MkdirTemp("", "pcx-web-")
	require.NoError(t, err)
	bin := filepath.Join(dir, filepath.Base(pkg))
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	require.NoError(t, err, "go build %s:\n%s", pkg, out)
	built[pkg] = bin
	return bin
}

func builtDirs() []string {
	builtMu.Lock()
	defer builtMu.Unlock()
	var dirs []string
	for _, bin := range built {
		dirs = append(dirs, filepath.Dir(bin))
	}
	return dirs
}

// ---- the server ----

type server struct {
	t        *testing.T
	tcp, web string // the addresses it listens on
	spool    string
	cmd      *exec.Cmd
	exited   chan struct{}
	log      *output
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// startServer runs the server binary with its web port on, until the test
// ends.
func startServer(t *testing.T) *server {
	t.Helper()
	s := &server{t: t, tcp: freeAddr(t), web: freeAddr(t), spool: t.TempDir()}
	s.start()
	t.Cleanup(s.stop)
	return s
}

// start starts the server on its addresses and waits until the page is
// served.
func (s *server) start() {
	s.t.Helper()
	s.log = newOutput()
	s.cmd = exec.Command(binary(s.t, "pcx/cmd/server"), "--listen", s.tcp, "--web-listen", s.web, "--tls-listen", "",
		"--spool-dir", s.spool, "--shutdown-grace", "1s")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	require.NoError(s.t, s.cmd.Start())
	s.exited = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			s.t.Fatalf("the server exited at start:\n%s", s.log)
		default:
		}
		if resp, err := http.Get(s.url()); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("the server never served its page:\n%s", s.log)
}

// stop ends the server with SIGTERM, as an operator would.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(wait):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *server) url() string { return "http://" + s.web + "/" }

// ---- output of processes ----

type output struct{ *procout.Output }

func newOutput() *output { return &output{procout.New()} }

func (o *output) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(wait)
	for {
		text, changed := o.Snapshot()
		if strings.Contains(text, want) {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("never saw %q in:\n%s", want, o)
		}
	}
}

// ---- the terminal user ----

type terminal struct {
	nick   string
	dir    string
	stdin  io.WriteCloser
	stdout *output
	stderr *output
}

// startTerminal runs the client binary in its scripted mode.
func startTerminal(t *testing.T, s *server, nick string) *terminal {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &terminal{nick: nick, dir: t.TempDir(), stdout: newOutput(), stderr: newOutput()}
	cmd := exec.CommandContext(ctx, binary(t, "pcx/cmd/client"), "--server", s.tcp, "--dir", c.dir, nick)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "NO_COLOR=1"}
	cmd.Stdout, cmd.Stderr = c.stdout, c.stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	c.stdin = stdin
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cancel()
			<-done
		}
		cancel()
	})
	c.stderr.waitFor(t, "logged in as "+nick)
	return c
}

// say sends a text and, when path is not empty, the file at path.
func (c *terminal) say(t *testing.T, text, path string) {
	t.Helper()
	_, err := fmt.Fprintf(c.stdin, "%s\n%s\n", text, path)
	require.NoError(t, err)
}

// ---- browser tabs ----

type tab struct {
	t       *testing.T
	ctx     context.Context
	dialogs atomic.Int32 // alert, confirm or prompt dialogs the page opened
}

// newTab opens a tab in a fresh browser context (its own cookies and
// storage, as another person's browser). readFiles lets the test read the
// received files' blob: URLs, which the page's policy forbids its own script.
func newTab(t *testing.T, readFiles bool) *tab {
	t.Helper()
	needBrowser(t)
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			tb.dialogs.Add(1)
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	if readFiles {
		tb.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
			return err
		}))
	}
	return tb
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, wait)
	defer cancel()
	require.NoError(tb.t, chromedp.Do(ctx, actions...))
}

// eval evaluates a JavaScript expression (a promise is awaited).
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, wait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	require.NoError(tb.t, err, "evaluating %s", js)
	return v
}

// waitJS waits until a JavaScript expression is true.
func (tb *tab) waitJS(what, js string) {
	tb.t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if eval[bool](tb, "!!("+js+")") {
			return
		}
		time.Sleep(30 * time.Millisecond)
	}
	log := eval[string](tb, `document.getElementById("log").innerText + "\n[state] " + document.getElementById("state").textContent`)
	tb.t.Fatalf("the page never showed %s; it shows:\n%s", what, log)
}

// js quotes a Go string for JavaScript.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// open loads the page and logs in; it waits for the outcome.
func (tb *tab) open(s *server, nick string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(s.url()), chromedp.WaitVisible(chromedp.CSS("#nickname")))
	tb.login(nick)
	tb.waitJS("the chat for "+nick, `document.getElementById("chat").classList.contains("on")`)
}

// login types a nickname and presses Join.
func (tb *tab) login(nick string) {
	tb.t.Helper()
	eval[bool](tb, `(document.getElementById("nickname").value = "") === ""`)
	tb.do(chromedp.SendKeys(chromedp.CSS("#nickname"), nick), chromedp.Click(chromedp.CSS("#join")))
}

// say types a text, attaches the file at path if any, and presses Enter.
func (tb *tab) say(text, path string) {
	tb.t.Helper()
	if path != "" {
		tb.do(chromedp.SetUploadFiles(chromedp.CSS("#fileInput"), []string{path}))
		tb.waitJS("the attachment", `document.getElementById("attached").classList.contains("on")`)
	}
	tb.do(chromedp.SendKeys(chromedp.CSS("#text"), text))
	tb.pressEnter(false)
}

// pressEnter presses Enter (with Shift when shift is true) in the focused
// element as a keyboard does: one key-down that carries the text "\r",
// which the page may cancel, and a key-up.
func (tb *tab) pressEnter(shift bool) {
	tb.t.Helper()
	var mods int64
	if shift {
		mods = 8
	}
	tb.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Modifiers: mods, Key: "Enter",
			Code: "Enter", Text: "\r", UnmodifiedText: "\r", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
		if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, down); err != nil {
			return err
		}
		up := down
		up.Type, up.Text, up.UnmodifiedText = input.DispatchKeyEventTypeKeyUp, "", ""
		_, err := chromedp.Call(ctx, input.DispatchKeyEvent, up)
		return err
	}))
}

// messageJS finds the message entry from nick with text.
func messageJS(nick, text string) string {
	return `[...document.querySelectorAll("#log li.msg")].find(li => li.dataset.nick === ` + js(nick) +
		` && li.querySelector(".text").textContent === ` + js(text) + `)`
}

func (tb *tab) waitMessage(nick, text string) {
	tb.t.Helper()
	tb.waitJS(fmt.Sprintf("[%s] %q", nick, text), messageJS(nick, text))
}

// fileHash waits for the file named name from nick and returns the
// SHA-256 of what its link holds, and its shown size.
func (tb *tab) fileHash(nick, name string) (hash string, size string) {
	tb.t.Helper()
	link := `[...document.querySelectorAll("#log li.msg")].filter(li => li.dataset.nick === ` + js(nick) +
		`).map(li => li.querySelector("a.file")).find(a => a && a.dataset.name === ` + js(name) + `)`
	tb.waitJS("the file "+name+" from "+nick, link)
	hash = eval[string](tb, `(async () => {
		const a = `+link+`;
		const bytes = await (await fetch(a.href)).arrayBuffer();
		const sum = await crypto.subtle.digest("SHA-256", bytes);
		return [...new Uint8Array(sum)].map(b => b.toString(16).padStart(2, "0")).join("");
	})()`)
	return hash, eval[string](tb, link+`.dataset.size`)
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// randomFile writes n pseudo-random bytes under name in a new folder.
func randomFile(t *testing.T, name string, n int) string {
	t.Helper()
	b := make([]byte, n)
	x := uint64(n) | 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}
