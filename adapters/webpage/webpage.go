// Package webpage serves the chat page: one HTML file with its style and
// script inline, embedded in the binary, that speaks PROTOCOL.md itself
// over the WebSocket at /ws (adapters/websocket). Nothing is fetched from
// anywhere else: the Content-Security-Policy allows the page's own style
// and script, by hash, and connections to its own origin only.
package webpage

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"time"
)

//go:embed index.html
var page []byte

// inline finds the page's inline style and script, whose hashes the
// Content-Security-Policy names.
var inline = regexp.MustCompile(`(?s)<(style|script)>(.*?)</(?:style|script)>`)

// Handler serves the page at / (and 404 elsewhere) with a policy that
// allows nothing but the page itself.
func Handler() http.Handler {
	csp := policy(page)
	started := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", "text/html; charset=utf-8")
		http.ServeContent(w, r, "index.html", started, bytes.NewReader(page))
	})
}

// Policy is the Content-Security-Policy the page is served with.
func Policy() string { return policy(page) }

// Size is the page's size in bytes.
func Size() int { return len(page) }

// policy allows the inline style and script of html by their SHA-256, blob:
// images (received pictures), and WebSocket connections to the page's own
// origin; nothing else, and no framing by other sites.
func policy(html []byte) string {
	var styles, scripts string
	for _, m := range inline.FindAllSubmatch(html, -1) {
		sum := sha256.Sum256(m[2])
		h := fmt.Sprintf(" 'sha256-%s'", base64.StdEncoding.EncodeToString(sum[:]))
		if string(m[1]) == "style" {
			styles += h
		} else {
			scripts += h
		}
	}
	return "default-src 'none'; script-src" + scripts + "; style-src" + styles +
		"; img-src blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}
