package localfs_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/localfs"
)

func TestUploadsOpenARegularFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "photo.jpg")
	require.NoError(t, os.WriteFile(path, []byte("JPEG"), 0o644))

	for name, given := range map[string]string{
		"plain":         path,
		"single quotes": "'" + path + "'",
		"double quotes": `"` + path + `"`,
	} {
		t.Run(name, func(t *testing.T) {
			up, err := localfs.NewUploads().Open(given)
			require.NoError(t, err)
			defer up.Body.Close()

			assert.Equal(t, "photo.jpg", up.Name)
			assert.Equal(t, int64(4), up.Size)
			assert.IsType(t, &os.File{}, up.Body, "an *os.File, for sendfile")
			b, err := io.ReadAll(up.Body)
			require.NoError(t, err)
			assert.Equal(t, "JPEG", string(b))
		})
	}
}

func TestUploadsRefuseWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, path string
		want       error
		text       string
	}{
		{"missing", filepath.Join(dir, "missing"), os.ErrNotExist, "no such file"},
		{"folder", dir, localfs.ErrIsDirectory, "it is a folder, not a file"},
		{"device", os.DevNull, localfs.ErrNotRegular, "it is not a regular file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := localfs.NewUploads().Open(tc.path)
			require.ErrorIs(t, err, tc.want)
			assert.Equal(t, tc.text, err.Error())
		})
	}
}
