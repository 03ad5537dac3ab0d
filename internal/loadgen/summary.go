package loadgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Summary is the result of a run: named figures in a fixed order, printed
// as one line of key=value pairs or as one JSON object.
type Summary struct {
	fields []summaryField
}

type summaryField struct {
	key   string
	value any // string, bool, int, int64, uint64 or float64
}

// Add appends a figure. Keys are snake_case and unique per summary.
func (s *Summary) Add(key string, value any) {
	s.fields = append(s.fields, summaryField{key, value})
}

// Get returns the figure under key.
func (s *Summary) Get(key string) (any, bool) {
	for _, f := range s.fields {
		if f.key == key {
			return f.value, true
		}
	}
	return nil, false
}

// String formats the summary as space-separated key=value pairs; a string
// value with a space or a quote is quoted Go-style.
func (s Summary) String() string {
	var b strings.Builder
	for i, f := range s.fields {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.key)
		b.WriteByte('=')
		b.WriteString(formatValue(f.value))
	}
	return b.String()
}

func formatValue(v any) string {
	switch v := v.(type) {
	case string:
		if v == "" || strings.ContainsAny(v, " \"=\t\n") {
			return strconv.Quote(v)
		}
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', 3, 64)
	default:
		return fmt.Sprint(v)
	}
}

// MarshalJSON writes the summary as one object, keys in order.
func (s Summary) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range s.fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.key)
		if err != nil {
			return nil, fmt.Errorf("loadgen: summary key: %w", err)
		}
		v := f.value
		if x, ok := v.(float64); ok {
			v = json.Number(strconv.FormatFloat(x, 'f', 3, 64))
		}
		val, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("loadgen: summary %s: %w", f.key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
