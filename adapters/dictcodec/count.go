package dictcodec

import (
	"cmp"
	"slices"
	"strings"

	"pcx/domain"
)

// bigCount is the largest item count d.counts holds in its byte; a
// container with at least this many items has its count in d.big.
const bigCount = 255

// sizes is what the first pass finds the second pass will need.
type sizes struct {
	items, fields, records, escaped int
	// big holds the slot and item count of every container with at least
	// bigCount items, in the order they close.
	big [][2]int
}

// count is Decode's first pass. It walks d.s for its structure alone,
// without checking the grammar, counts the items of every object and list,
// and allocates exactly the storage the second pass will fill.
//
// It splits the input into strings, brackets and commas by the same rules
// as the second pass, so on every prefix the second pass accepts the two
// see the same containers open in the same order, and the first pass
// counts at least the items the second will find there: exactly as many
// when the whole input is valid. It stops where the second pass must fail
// at the latest: an unterminated string, nesting deeper than MaxDepth, the
// end of the top-level object.
//
// Its open containers are in d.frames, which the second pass does not use
// yet: for each, start is its slot in the counts and next is how many of
// its items have begun, 1 from the first on and one more for every comma.
// On input the second pass accepts, commas only follow items, so this is
// exact there.
func (d *decoder) count() {
	stack := &d.frames
	depth := 0
	var sz sizes
	i := skipSpaceAt(d.s, 0)
	if i == len(d.s) || d.s[i] != '{' {
		return
	}
scan:
	for ; i < len(d.s); i++ {
		switch c := d.s[i]; c {
		case '"':
			stack[depth-1].begin()
			end, unescaped := skipString(d.s, i, d.backslash)
			if end < 0 {
				break scan
			}
			if unescaped >= 0 {
				sz.escaped += unescaped
			}
			d.noteEnd(end, unescaped < 0)
			i = end
		case '{', '[':
			if depth > 0 {
				stack[depth-1].begin()
			}
			if depth == MaxDepth {
				break scan
			}
			if depth > 0 && c == '{' {
				sz.records++
			}
			stack[depth] = frame{list: c == '[', start: d.appendCount()}
			depth++
		case ',':
			stack[depth-1].next++
		case '}', ']':
			depth--
			d.closeCount(&stack[depth], &sz)
			if depth == 0 {
				break scan
			}
		}
	}
	for depth > 0 {
		depth--
		d.closeCount(&stack[depth], &sz)
	}
	d.allocate(&sz)
}

// appendCount reserves the next slot for a count and returns it. Counts
// start in d.countBuf; when that is full they move to d.counts, sized for
// every bracket in the input, an upper bound on the containers, so that it
// is allocated once.
func (d *decoder) appendCount() int {
	if d.counts == nil && d.nCounts == len(d.countBuf) {
		bound := strings.Count(d.s, "{") + strings.Count(d.s, "[")
		d.counts = make([]byte, bound)
		copy(d.counts, d.countBuf[:])
	}
	d.nCounts++
	return d.nCounts - 1
}

// countAt returns the slot of the count of the i-th container to open.
func (d *decoder) countAt(i int) *byte {
	if d.counts != nil {
		return &d.counts[i]
	}
	return &d.countBuf[i]
}

// noteEnd keeps the offset of a string's closing quote for the second
// pass, as long as d.ends has room, if the string has no escapes.
func (d *decoder) noteEnd(end int, plain bool) {
	if d.nEnds < len(d.ends) {
		if plain {
			d.ends[d.nEnds] = end
		}
		d.nEnds++
	}
}

// begin notes, in the first pass, that an item of f begins.
func (f *frame) begin() { f.next = max(f.next, 1) }

// closeCount records the item count of the container f at the end of the
// first pass.
func (d *decoder) closeCount(f *frame, sz *sizes) {
	n := f.next
	if f.list {
		sz.items += n
	} else {
		sz.fields += n
	}
	*d.countAt(f.start) = byte(min(n, bigCount))
	if n >= bigCount {
		sz.big = append(sz.big, [2]int{f.start, n})
	}
}

// allocate gives the second pass the storage the first pass counted.
func (d *decoder) allocate(sz *sizes) {
	if len(sz.big) > 0 {
		slices.SortFunc(sz.big, func(a, b [2]int) int { return cmp.Compare(a[0], b[0]) })
		d.big = make([]int, len(sz.big))
		for i, b := range sz.big {
			d.big[i] = b[1]
		}
	}
	if sz.items > 0 {
		d.items = make([]domain.Value, sz.items)
	}
	if sz.fields > 0 {
		d.fields = make([]domain.Field, sz.fields)
	}
	if sz.records > 0 {
		d.records = make([]domain.Record, sz.records)
	}
	if sz.escaped > 0 {
		d.escaped.Grow(sz.escaped)
	}
}

// skipString returns the offset of the quote that closes the string whose
// opening quote is at open, or -1 if there is none. If the string has
// escapes, unescaped is its length once unescaped; else it is -1.
// backslash says whether s has a backslash anywhere.
func skipString(s string, open int, backslash bool) (end, unescaped int) {
	body := s[open+1:]
	n := strings.IndexByte(body, '"')
	if n < 0 {
		return -1, -1
	}
	if !backslash || strings.IndexByte(body[:n], '\\') < 0 {
		return open + 1 + n, -1
	}
	end = skipEscapedString(s, open)
	if end < 0 {
		return -1, -1
	}
	unescaped = end - open - 1
	for i := open + 1; i < end; i++ {
		if isEscape(s, i) {
			unescaped--
			i++
		}
	}
	return end, unescaped
}

// skipEscapedString returns the offset of the first quote after open that
// no backslash escapes, or -1 if there is none.
func skipEscapedString(s string, open int) int {
	end := open + 1
	for ; end < len(s) && s[end] != '"'; end++ {
		if isEscape(s, end) {
			end++
		}
	}
	if end >= len(s) {
		return -1
	}
	return end
}

// skipSpaceAt returns the offset of the first byte at or after i that is
// not ASCII whitespace.
func skipSpaceAt(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}
