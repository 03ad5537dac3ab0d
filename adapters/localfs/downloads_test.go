package localfs_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/localfs"
)

func newDownloads(t *testing.T) (*localfs.Downloads, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "downloads")
	require.NoError(t, os.Mkdir(dir, 0o755))
	d, err := localfs.NewDownloads(dir)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d, dir
}

// listing returns the names in dir and their contents.
func listing(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = string(b)
	}
	return out
}

func save(t *testing.T, d *localfs.Downloads, name, content string) string {
	t.Helper()
	saved, err := d.Save(name, int64(len(content)), strings.NewReader(content))
	require.NoError(t, err)
	return saved
}

func TestNewDownloadsNeedsAFolder(t *testing.T) {
	_, err := localfs.NewDownloads(filepath.Join(t.TempDir(), "missing"))
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestSaveWritesTheWholePayload(t *testing.T) {
	for _, size := range []int{0, 1, 5 << 20} {
		t.Run(fmt.Sprintf("%d bytes", size), func(t *testing.T) {
			d, dir := newDownloads(t)
			content := strings.Repeat("x", size)

			assert.Equal(t, "data.bin", save(t, d, "data.bin", content))
			assert.Equal(t, map[string]string{"data.bin": content}, listing(t, dir))
		})
	}
}

func TestSaveNeverOverwrites(t *testing.T) {
	d, dir := newDownloads(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "photo.jpg"), []byte("mine"), 0o644))

	first := save(t, d, "photo.jpg", "one")
	second := save(t, d, "photo.jpg", "two")
	third := save(t, d, "README", "three")
	fourth := save(t, d, "README", "four")

	assert.Equal(t, []string{"photo (1).jpg", "photo (2).jpg", "README", "README (1)"}, []string{first, second, third, fourth})
	assert.Equal(t, map[string]string{
		"photo.jpg": "mine", "photo (1).jpg": "one", "photo (2).jpg": "two", "README": "three", "README (1)": "four",
	}, listing(t, dir))
}

func TestSaveKeepsHostileNamesInsideTheFolder(t *testing.T) {
	cases := []struct{ given, want string }{
		{"../../x", "x"},
		{"\x1b[31mred", "red"},
		{".", "attachment"},
		{"..", "attachment"},
		{"/etc/passwd", "passwd"},
		{"\x1b]0;title\x07.profile", "profile"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q", tc.given), func(t *testing.T) {
			d, dir := newDownloads(t)

			assert.Equal(t, tc.want, save(t, d, tc.given, "payload"))
			assert.Equal(t, map[string]string{tc.want: "payload"}, listing(t, dir))
			assert.Equal(t, map[string]string{"downloads": ""}, names(t, filepath.Dir(dir)), "nothing beside the folder")
		})
	}
}

func names(t *testing.T, dir string) map[string]string {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string]string{}
	for _, e := range entries {
		out[e.Name()] = ""
	}
	return out
}

func TestSaveDoesNotFollowASymlinkOut(t *testing.T) {
	d, dir := newDownloads(t)
	outside := filepath.Join(t.TempDir(), "target")
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "x")))

	saved := save(t, d, "x", "payload")

	assert.Equal(t, "x (1)", saved)
	_, err := os.Lstat(outside)
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing written through the link")
}

func TestConcurrentSavesOfOneNameGetDistinctFiles(t *testing.T) {
	d, dir := newDownloads(t)
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { save(t, d, "same.txt", fmt.Sprint(i)) })
	}
	wg.Wait()

	got := listing(t, dir)
	assert.Len(t, got, n)
	seen := map[string]bool{}
	for _, content := range got {
		seen[content] = true
	}
	assert.Len(t, seen, n, "every payload kept whole in its own file")
}

func TestSaveAfterAReadErrorLeavesNothing(t *testing.T) {
	d, dir := newDownloads(t)
	r := io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(io.ErrUnexpectedEOF))

	_, err := d.Save("cut.bin", 10, r)

	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Empty(t, listing(t, dir))
}

func TestSaveOfAShortStreamLeavesNothing(t *testing.T) {
	d, dir := newDownloads(t)

	_, err := d.Save("short.bin", 10, strings.NewReader("abc"))

	require.Error(t, err)
	assert.Empty(t, listing(t, dir))
}

func TestSaveIntoAReadOnlyFolderKeepsTheStreamInStep(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes into read-only folders; TestSaveWriteErrorKeepsTheStreamInStep covers write errors")
	}
	d, dir := newDownloads(t)
	require.NoError(t, os.Chmod(dir, 0o555))
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	stream := strings.NewReader("payload" + "NEXT")

	_, err := d.Save("a.txt", 7, stream)

	require.ErrorIs(t, err, os.ErrPermission)
	rest, _ := io.ReadAll(stream)
	assert.Equal(t, "NEXT", string(rest), "the payload was read to its end, no further")
	assert.Empty(t, listing(t, dir))
}

// TestSaveWriteErrorKeepsTheStreamInStep makes writes fail part-way as a full
// disk would, with a file size limit (which binds root too).
func TestSaveWriteErrorKeepsTheStreamInStep(t *testing.T) {
	d, dir := newDownloads(t)
	limitFileSize(t, 4096)
	payload := bytes.Repeat([]byte("x"), 64<<10)
	stream := io.MultiReader(bytes.NewReader(payload), strings.NewReader("NEXT"))

	_, err := d.Save("big.bin", int64(len(payload)), stream)

	require.ErrorIs(t, err, syscall.EFBIG)
	rest, _ := io.ReadAll(stream)
	assert.Equal(t, "NEXT", string(rest), "the payload was read to its end, no further")
	assert.Empty(t, listing(t, dir), "the partial file is removed")
}

func limitFileSize(t *testing.T, n uint64) {
	t.Helper()
	signal.Ignore(syscall.SIGXFSZ) // write fails with EFBIG instead of killing the process
	var old syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old))
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: old.Max}))
	t.Cleanup(func() {
		syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
		signal.Reset(syscall.SIGXFSZ)
	})
}

func newLimited(t *testing.T, limits localfs.Limits, free func() (int64, bool)) (*localfs.Downloads, string) {
	t.Helper()
	dir := t.TempDir()
	d, err := localfs.NewDownloads(dir, limits)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	if free != nil {
		localfs.SetFreeSpace(d, free)
	}
	return d, dir
}

// stream is a payload followed by what comes after it on the connection,
// so a test can see that Save read the payload to its end and no further.
func stream(payload int, after string) *strings.Reader {
	return strings.NewReader(strings.Repeat("x", payload) + after)
}

func TestAFileOverMaxFileIsReadAndDropped(t *testing.T) {
	d, dir := newLimited(t, localfs.Limits{MaxFile: 10}, nil)
	r := stream(11, "next")

	_, err := d.Save("big.bin", 11, r)

	require.ErrorIs(t, err, localfs.ErrFileTooLarge)
	rest, _ := io.ReadAll(r)
	assert.Equal(t, "next", string(rest), "the stream stays in step")
	assert.Empty(t, listing(t, dir))
	assert.Equal(t, "ok.bin", save(t, d, "ok.bin", "0123456789"), "a file at the limit is taken")
}

func TestAFileThatWouldFillTheDiskIsDropped(t *testing.T) {
	d, dir := newLimited(t, localfs.Limits{MinFree: 1000}, func() (int64, bool) { return 1500, true })
	r := stream(501, "next")

	_, err := d.Save("big.bin", 501, r)

	require.ErrorIs(t, err, localfs.ErrDiskLow)
	rest, _ := io.ReadAll(r)
	assert.Equal(t, "next", string(rest))
	assert.Empty(t, listing(t, dir))
	assert.Equal(t, "ok.bin", save(t, d, "ok.bin", strings.Repeat("x", 500)))
}

func TestADiskFilledByOthersDuringAFileStopsIt(t *testing.T) {
	var mu sync.Mutex
	looks := 0
	free := func() (int64, bool) {
		mu.Lock()
		defer mu.Unlock()
		looks++
		if looks == 1 {
			return 100 << 20, true // plenty when the file starts
		}
		return 1 << 20, true // then someone else fills the disk
	}
	d, dir := newLimited(t, localfs.Limits{MinFree: 10 << 20}, free)
	const size = 40 << 20
	r := stream(size, "next")

	_, err := d.Save("big.bin", size, r)

	require.ErrorIs(t, err, localfs.ErrDiskLow)
	rest, _ := io.ReadAll(r)
	assert.Equal(t, "next", string(rest), "the rest of the file is read and dropped")
	assert.Empty(t, listing(t, dir), "the part written is removed")
}

func TestTheRealFreeSpaceIsChecked(t *testing.T) {
	d, dir := newLimited(t, localfs.Limits{MinFree: 1 << 62}, nil)
	_, err := d.Save("a.txt", 1, strings.NewReader("x"))
	require.ErrorIs(t, err, localfs.ErrDiskLow, "no disk has 4 EiB free")
	assert.Empty(t, listing(t, dir))
}

func TestManyFilesOfOneNameTakeTheNextFreeNames(t *testing.T) {
	d, dir := newDownloads(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "log (3).txt"), []byte("someone else's"), 0o644))
	const n = 3000
	seen := map[string]bool{}
	for i := range n {
		saved := save(t, d, "log.txt", "x")
		require.False(t, seen[saved], "file %d reused %q", i, saved)
		seen[saved] = true
	}
	assert.True(t, seen["log.txt"])
	assert.True(t, seen["log (3000).txt"], "one name is skipped, the one that was taken")
	assert.False(t, seen["log (3).txt"])
	assert.Len(t, listing(t, dir), n+1)
}
