package dictcodec_test

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"pcx/adapters/dictcodec"
)

// rec, pair and str keep the expected records in tables short.
func rec(fields ...tField) *tRecord { return newTRecord(fields...) }

func pair(key string, v tValue) tField { return tField{Key: key, Value: v} }

func str(s string) tValue { return tStr(s) }

// encode is appendTree into a fresh buffer.
func encode(r *tRecord) []byte { return appendTree(nil, r) }

// stringPieces are what random strings are made of: the bytes that need
// escaping, whitespace and structure that must stay literal inside a string,
// a backslash before an ordinary byte, multi-byte UTF-8 and invalid UTF-8.
var stringPieces = []string{
	`"`, `\`, `\\`, `\"`, `\n`, "a", "key", " ", "\t", "\r\n", "{", "}", "[", "]", ":", ",",
	"é", "世界", "😀", "\xff", "\xc3", "\x00", "\x7f",
}

func randomString(rng *rand.Rand) string {
	var s string
	for n := rng.IntN(6); n > 0; n-- {
		s += stringPieces[rng.IntN(len(stringPieces))]
	}
	return s
}

// readKeys are the top-level keys the decoders look for.
var readKeys = []string{"time", "nickname", "text", "attachment", "users", "command", "status"}

// randomRecord builds a record the decoders must accept: at least one key
// at the top, distinct keys in every object, nesting within MaxDepth. At
// the top, half the keys are ones the decoders read, and "users" is often
// a list of strings. depth is the depth the record itself will have.
func randomRecord(rng *rand.Rand, depth int) *tRecord {
	n := rng.IntN(5)
	if depth == 1 {
		n++
	}
	var fields []tField
	seen := map[string]bool{}
	for len(fields) < n {
		key := randomString(rng)
		if depth == 1 && rng.IntN(2) == 0 {
			key = readKeys[rng.IntN(len(readKeys))]
		}
		if seen[key] {
			key += strconv.Itoa(len(fields))
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		if depth == 1 && key == "users" && rng.IntN(2) == 0 {
			var users []tValue
			for n := rng.IntN(4); n > 0; n-- {
				users = append(users, str(randomString(rng)))
			}
			fields = append(fields, pair(key, tList(users...)))
			continue
		}
		fields = append(fields, pair(key, randomValue(rng, depth+1)))
	}
	return newTRecord(fields...)
}

// randomValue returns a value that would sit at the given depth.
func randomValue(rng *rand.Rand, depth int) tValue {
	if depth > dictcodec.MaxDepth {
		return str(randomString(rng))
	}
	switch rng.IntN(6) {
	case 0:
		return tRec(randomRecord(rng, depth))
	case 1:
		var items []tValue
		for n := rng.IntN(4); n > 0; n-- {
			items = append(items, randomValue(rng, depth+1))
		}
		return tList(items...)
	case 2:
		// A chain of single-item lists down to the deepest level allowed,
		// so that random records reach MaxDepth now and then.
		if rng.IntN(8) == 0 {
			return chain(depth, str(randomString(rng)))
		}
	}
	return str(randomString(rng))
}

// chain wraps leaf in lists from depth down to MaxDepth.
func chain(depth int, leaf tValue) tValue {
	v := leaf
	for d := dictcodec.MaxDepth; d >= depth; d-- {
		v = tList(v)
	}
	return v
}

// quote writes s as a dict-format string, by the rule of PROTOCOL.md
// section 2 and independently of the encoder under test.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// appendSpaced encodes r like Append but puts random ASCII whitespace
// around every token, as a lenient writer might.
func appendSpaced(dst []byte, r *tRecord, rng *rand.Rand) []byte {
	dst = append(appendSpace(dst, rng), '{')
	for i, f := range r.Fields() {
		if i > 0 {
			dst = append(appendSpace(dst, rng), ',')
		}
		dst = append(appendSpace(dst, rng), quote(f.Key)...)
		dst = append(appendSpace(dst, rng), ':')
		dst = appendSpacedValue(appendSpace(dst, rng), f.Value, rng)
	}
	return appendSpace(append(appendSpace(dst, rng), '}'), rng)
}

func appendSpacedValue(dst []byte, v tValue, rng *rand.Rand) []byte {
	switch v.Kind() {
	case kindRecord:
		r, _ := v.Record()
		return appendSpaced(dst, r, rng)
	case kindList:
		items, _ := v.List()
		dst = append(dst, '[')
		for i, item := range items {
			if i > 0 {
				dst = append(appendSpace(dst, rng), ',')
			}
			dst = appendSpacedValue(appendSpace(dst, rng), item, rng)
		}
		return append(appendSpace(dst, rng), ']')
	default:
		s, _ := v.String()
		return append(dst, quote(s)...)
	}
}

func appendSpace(dst []byte, rng *rand.Rand) []byte {
	for n := rng.IntN(3); n > 0; n-- {
		dst = append(dst, " \t\r\n"[rng.IntN(4)])
	}
	return dst
}
