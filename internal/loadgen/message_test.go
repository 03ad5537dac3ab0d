package loadgen

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStampRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		stamp Stamp
		size  int
		want  int
	}{
		{name: "padded to the size asked", stamp: Stamp{Sender: 3, Seq: 42, SentNS: 123456789}, size: 64, want: 64},
		{name: "never shorter than the stamp", stamp: Stamp{Sender: 0, Seq: 0, SentNS: 0}, size: 1, want: StampLen},
		{name: "largest fields", stamp: Stamp{Sender: MaxSenders - 1, Seq: MaxSeq - 1, SentNS: maxSent - 1}, size: 1000, want: 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := AppendStamp([]byte("prefix"), tt.stamp, tt.size)[len("prefix"):]
			require.Len(t, text, tt.want)
			assert.True(t, utf8.Valid(text))
			assert.NotContains(t, string(text), `"`)
			assert.NotContains(t, string(text), `\`)
			got, err := ParseStamp(text)
			require.NoError(t, err)
			assert.Equal(t, tt.stamp, got)
		})
	}
}

// Any single corrupted byte of a load text is caught.
func TestParseStampDetectsEveryByteFlip(t *testing.T) {
	text := AppendStamp(nil, Stamp{Sender: 7, Seq: 1000, SentNS: 99999}, 80)
	for i := range text {
		for _, mask := range []byte{0x01, 0x20, 0x80} {
			bad := append([]byte(nil), text...)
			bad[i] ^= mask
			_, err := ParseStamp(bad)
			if i < len(stampMagic) {
				require.ErrorIs(t, err, ErrNotStamp, "byte %d ^ %#x", i, mask)
				continue
			}
			require.ErrorIs(t, err, ErrGarbled, "byte %d ^ %#x", i, mask)
		}
	}
}

func TestParseStampRefusals(t *testing.T) {
	good := AppendStamp(nil, Stamp{Sender: 1, Seq: 2, SentNS: 3}, 60)
	tests := []struct {
		name string
		text string
		want error
	}{
		{name: "a notice is not a stamp", text: `User "x" connected`, want: ErrNotStamp},
		{name: "empty text", text: "", want: ErrNotStamp},
		{name: "cut short", text: string(good[:StampLen-1]), want: ErrGarbled},
		{name: "padding cut off", text: string(good[:len(good)-1]), want: ErrGarbled},
		{name: "padding swapped with another message's", text: string(good[:StampLen]) + string(AppendStamp(nil, Stamp{Sender: 1, Seq: 3, SentNS: 3}, 60)[StampLen:]), want: ErrGarbled},
		{name: "uppercase hex", text: "lg000A.00000002.000000000003.00000000.", want: ErrGarbled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStamp([]byte(tt.text))
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func BenchmarkParseStamp(b *testing.B) {
	text := AppendStamp(nil, Stamp{Sender: 7, Seq: 1000, SentNS: 99999}, 64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseStamp(text); err != nil {
			b.Fatal(err)
		}
	}
}
