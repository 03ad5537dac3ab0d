package terminal

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// completePath completes the path typed at the attachment prompt, as a
// shell does: to the one name that starts with what was typed after the
// last slash (with a slash after a folder), or to the longest start that
// all such names share. A leading quote (from a drag and drop) is kept
// and skipped, and ~/ stands for the home folder, as when the file is
// opened. Names that start with a dot are offered only when the typed
// part does too; names that could not be typed (control characters,
// invalid UTF-8) are never offered. candidates are the names chosen from,
// folders with a slash after them, sorted.
func completePath(typed string) (completed string, candidates []string) {
	path := strings.TrimLeft(typed, `'"`)
	if path == "~" {
		return typed + "/", nil
	}
	folder, prefix := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		folder, prefix = path[:i+1], path[i+1:]
	}
	lookup := folder
	if strings.HasPrefix(lookup, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return typed, nil
		}
		lookup = filepath.Join(home, lookup[2:]) + "/"
	}
	if lookup == "" {
		lookup = "."
	}
	entries, err := os.ReadDir(lookup)
	if err != nil {
		return typed, nil
	}
	for _, entry := range entries {
		name := entry.Name()
		if !strings.HasPrefix(name, prefix) || !typeable(name) ||
			strings.HasPrefix(name, ".") && !strings.HasPrefix(prefix, ".") {
			continue
		}
		if isFolder(filepath.Join(lookup, name), entry) {
			name += "/"
		}
		candidates = append(candidates, name)
	}
	slices.Sort(candidates)
	switch len(candidates) {
	case 0:
		return typed, nil
	case 1:
		return typed + candidates[0][len(prefix):], candidates
	}
	common := candidates[0]
	for _, c := range candidates[1:] {
		common = commonPrefix(common, c)
	}
	return typed + common[len(prefix):], candidates
}

// isFolder reports whether a directory entry is a folder, or a symbolic
// link to one.
func isFolder(path string, entry os.DirEntry) bool {
	if entry.IsDir() {
		return true
	}
	if entry.Type()&os.ModeSymlink == 0 {
		return false
	}
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

// typeable reports whether name can be put in the edit line as it is.
func typeable(name string) bool {
	return utf8.ValidString(name) && keepable(name) == name && !strings.ContainsAny(name, "\n\t")
}

// commonPrefix is the longest start a and b share, ending on a whole
// character.
func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	for n > 0 && !utf8.ValidString(a[:n]) {
		n--
	}
	return a[:n]
}
