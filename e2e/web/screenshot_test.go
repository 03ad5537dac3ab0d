package web_test

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestScreenshots writes the README's pictures of the page, at a phone's
// and a desktop's size, into the folder PCX_SCREENSHOTS names:
//
//	PCX_SCREENSHOTS=$PWD/docs go test -run TestScreenshots ./e2e/web/
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("PCX_SCREENSHOTS")
	if dir == "" {
		t.Skip("set PCX_SCREENSHOTS to a folder to write the screenshots")
	}
	needBrowser(t)
	s := startServer(t)
	olga := newTab(t, false)
	olga.open(s, "Olga")
	ivan := startTerminal(t, s, "Ivan")
	maria := newTab(t, false)
	maria.open(s, "Maria")

	ivan.say(t, "Morning! Anyone seen the slides for today?", "")
	maria.say("Here they are", writePicture(t))
	ivan.say(t, "Thanks, and the notes:", randomFile(t, "notes.pdf", 180<<10))
	olga.waitMessage("Ivan", "Thanks, and the notes:")
	olga.say("Got both, thank you.", "")
	ivan.stdout.waitFor(t, "Olga: Got both")
	olga.do(chromedp.SendKeys(chromedp.CSS("#text"), "See you at ten"))
	olga.waitJS("the picture", `document.querySelector("#log img") && document.querySelector("#log img").complete`)

	for _, shot := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"web-phone.png", 390, 760, true}, {"web-desktop.png", 1100, 640, false}} {
		var opts []chromedp.EmulateViewportOption
		if shot.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
		}
		olga.do(chromedp.EmulateViewport(shot.width, shot.height, opts...))
		olga.waitJS("the layout", `true`)
		img := eval[bool](olga, `(document.getElementById("log").scrollTop = 1e9) > 0`)
		_ = img
		ctx := olga.ctx
		b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, shot.name), b, 0o644))
	}
}

// writePicture writes a small PNG to attach.
func writePicture(t *testing.T) string {
	t.Helper()
	const w, h = 240, 150
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(60 + x*150/w), uint8(110 + y*100/h), 200, 255})
		}
	}
	for y := 40; y < 110; y++ {
		for x := 30; x < 210; x++ {
			if (x/30+y/35)%2 == 0 {
				img.Set(x, y, color.RGBA{250, 250, 250, 255})
			}
		}
	}
	path := filepath.Join(t.TempDir(), "slides.png")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, png.Encode(f, img))
	return path
}
