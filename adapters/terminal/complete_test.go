package terminal

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompletePath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	dir := filepath.Join(home, "d")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "folder"), 0o755))
	for _, name := range []string{"été-1.txt", "été-2.txt", "one.txt", ".secret", "bad\x1bname", "report.pdf"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644))
	}
	require.NoError(t, os.Symlink(filepath.Join(dir, "folder"), filepath.Join(dir, "link")))

	cases := []struct {
		name       string
		typed      string
		completed  string
		candidates []string
	}{
		{"one match", dir + "/on", dir + "/one.txt", []string{"one.txt"}},
		{"a folder gets a slash", dir + "/fo", dir + "/folder/", []string{"folder/"}},
		{"a link to a folder too", dir + "/li", dir + "/link/", []string{"link/"}},
		{"the common start, in whole characters", dir + "/é", dir + "/été-", []string{"été-1.txt", "été-2.txt"}},
		{"hidden names only when asked", dir + "/.", dir + "/.secret", []string{".secret"}},
		{"names that cannot be typed are not offered", dir + "/ba", dir + "/ba", nil},
		{"nothing matches", dir + "/zzz", dir + "/zzz", nil},
		{"home", "~/d/on", "~/d/one.txt", []string{"one.txt"}},
		{"home alone", "~", "~/", nil},
		{"a quote from a drag and drop is kept", "'" + dir + "/rep", "'" + dir + "/report.pdf", []string{"report.pdf"}},
		{"a folder that does not exist", dir + "/nope/x", dir + "/nope/x", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			completed, candidates := completePath(tc.typed)
			assert.Equal(t, tc.completed, completed)
			assert.Equal(t, tc.candidates, candidates)
		})
	}

	_, all := completePath(dir + "/")
	assert.Equal(t, []string{"folder/", "link/", "one.txt", "report.pdf", "été-1.txt", "été-2.txt"}, all)
}

func TestColumnsFitTheWidth(t *testing.T) {
	names := []string{"alpha", "beta", "gamma", "日本語", "epsilon"}
	assert.Equal(t, "alpha  beta\ngamma  日本語\nepsilon", columns(names, 14, 10))
	assert.Equal(t, "alpha  beta  … and 3 more", columns(names, 40, 2))
}
