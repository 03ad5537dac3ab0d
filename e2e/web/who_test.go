package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/webpage"
	"pcx/adapters/websocket"
)

// The server on main has no section 7 yet, so this test plays a server that
// has it: the page asks who is online once logged in, and lists the answer
// in login order, then keeps it current from join and leave notices.
func TestTheOnlineListComesFromWho(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	l, err := websocket.Listen("127.0.0.1:0", websocket.Options{Page: webpage.Handler()})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	served := make(chan error, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			served <- err
			return
		}
		defer conn.Close()
		var got []string
		for range 2 { // the login, then the question
			body, err := conn.Reader().ReadRecord(nil, 1<<10)
			if err != nil {
				served <- err
				return
			}
			got = append(got, string(body))
			reply := `{"status":"success"}`
			if len(got) == 2 {
				reply = `{"time":"2026-12-01 07:00:00.000000+00:00","nickname":"SERVER","text":"Online (3): Ivan, Maria, Olga","users":["Ivan","Maria","Olga"]}`
			}
			if err := conn.Writer().WriteFrames([][]byte{[]byte(reply)}); err != nil {
				served <- err
				return
			}
		}
		assert.Equal(t, []string{`{"nickname":"Olga"}`, `{"command":"who"}`}, got)
		err = conn.Writer().WriteFrames([][]byte{
			[]byte(`{"time":"2026-12-01 07:00:01.000000+00:00","nickname":"SERVER","text":"User \"Maria\" disconnected"}`),
			[]byte(`{"time":"2026-12-01 07:00:02.000000+00:00","nickname":"SERVER","text":"User \"Zoe\" connected"}`),
		})
		served <- err
		_, _ = conn.Reader().ReadRecord(nil, 1<<10) // until the page goes
	}()
	tb := newTab(t, false)

	tb.do(chromedp.Navigate(l.URL("127.0.0.1")), chromedp.WaitVisible(chromedp.CSS("#nickname")))
	tb.login("Olga")

	tb.waitJS("the list", `[...document.querySelectorAll("#who li")].map(li => li.textContent).join(",") === "Ivan,Olga,Zoe"`)
	require.NoError(t, <-served)
	assert.Equal(t, "", eval[string](tb, `document.getElementById("whoNote").textContent`), "no fallback note")
	assert.False(t, eval[bool](tb, `document.getElementById("log").textContent.includes("Online (3)")`), "the answer is not a chat line")
}
