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
func FormatTime(t time.Time) string { return string(AppendTime(make([]byte, 0, len(TimeLayout)), t)) }

// AppendTime appends t in TimeLayout, converted to UTC, to dst. It writes
// the digits itself, as the server stamps every message: several times
// faster than time.AppendFormat, and the same bytes.
func AppendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, TimeLayout)
	}
	hour, minute, sec := t.Clock()
	dst = appendDigits(dst, year, 4)
	dst = appendDigits(append(dst, '-'), int(month), 2)
	dst = appendDigits(append(dst, '-'), day, 2)
	dst = appendDigits(append(dst, ' '), hour, 2)
	dst = appendDigits(append(dst, ':'), minute, 2)
	dst = appendDigits(append(dst, ':'), sec, 2)
	dst = appendDigits(append(dst, '.'), t.Nanosecond()/1000, 6)
	return append(dst, "+00:00"...)
}

// appendDigits writes n, which is not negative, in exactly width digits.
func appendDigits(dst []byte, n, width int) []byte {
	for i := width - 1; i >= 0; i-- {
		dst = append(dst, '0')
	}
	for i := len(dst) - 1; n > 0; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
	return dst
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
