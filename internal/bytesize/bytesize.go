// Package bytesize reads and writes sizes in bytes with a unit, as the
// commands' flags take them: 64KiB, 8MiB, 1GiB, 1GB, 512.
package bytesize

import (
	"fmt"
	"strconv"
	"strings"
)

// Size is a number of bytes; *Size is a flag.Value.
type Size int64

var units = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1},
}

// Set parses s: a whole number with an optional unit.
func (v *Size) Set(s string) error {
	s = strings.TrimSpace(s)
	factor := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, factor = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/factor {
		return fmt.Errorf("not a size: %q (try 64KiB, 8MiB or 1GiB)", s)
	}
	*v = Size(n * factor)
	return nil
}

// String writes the size in the binary unit that divides it into fewer
// than 1024, else in bytes.
func (v *Size) String() string {
	n := int64(*v)
	for _, u := range units[:3] {
		if n >= u.factor && n%u.factor == 0 && (n/u.factor) < 1024 {
			return strconv.FormatInt(n/u.factor, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
