package domain

import (
	"fmt"
	"time"
)

// TimeLayout is how a relayed message's time is written: UTC, always six
// fractional digits (PROTOCOL.md section 3).
const TimeLayout = "2006-01-02 15:04:05.000000+00:00"

// parseLayout reads TimeLayout and what the reference server writes as well:
// Python omits the fraction when it is zero, and Go's parser accepts any
// fraction after the seconds when the layout has none.
const parseLayout = "2006-01-02 15:04:05Z07:00"

// FormatTime writes t in TimeLayout, converted to UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// AppendTime appends t in TimeLayout, converted to UTC, to dst.
func AppendTime(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, TimeLayout)
}

// ParseTime reads a time written in TimeLayout, or with a fraction of any
// length or none, or another UTC offset, and returns it in UTC.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(parseLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("domain: time %q: %w", s, err)
	}
	return t.UTC(), nil
}
