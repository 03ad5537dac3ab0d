package dictcodec_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
	"pcx/domain"
)

// refRaw is what the reference record holds under key, as a domain.Raw.
func refRaw(r *tRecord, key string) domain.Raw {
	v, ok := r.Get(key)
	if !ok {
		return domain.Raw{}
	}
	if s, ok := v.String(); ok {
		return domain.RawOf(s)
	}
	return domain.RawList
}

// checkTyped checks the decoders against the reference reader: the same
// values under the keys they read, or an error at the same offset.
func checkTyped(t *testing.T, in []byte) {
	want, wantAt, wantOK := refDecode(in)
	if !wantOK {
		for name, decode := range decoders {
			err := decode(in)
			var se *dictcodec.SyntaxError
			require.ErrorAs(t, err, &se, "%s: input %q", name, in)
			require.ErrorIs(t, err, dictcodec.ErrSyntax)
			require.Equal(t, wantAt, se.Offset, "%s: error offset for %q: %v", name, in, err)
		}
		return
	}
	rel, err := dictcodec.DecodeRelay(in)
	require.NoError(t, err, "input %q", in)
	require.Equal(t, refRaw(want, "time"), rel.Time)
	require.Equal(t, refRaw(want, "nickname"), rel.Nickname)
	require.Equal(t, refRaw(want, "text"), rel.Text)
	require.Equal(t, refRaw(want, "attachment"), rel.Attachment)
	var users []string
	hasUsers := false
	if v, ok := want.Get("users"); ok {
		if items, ok := v.List(); ok {
			hasUsers = true
			users = []string{}
			for _, it := range items {
				s, ok := it.String()
				if !ok {
					hasUsers, users = false, nil
					break
				}
				users = append(users, s)
			}
		}
	}
	require.Equal(t, hasUsers, rel.HasUsers)
	if hasUsers {
		require.Equal(t, users, append([]string{}, rel.Users...))
	}
	inbound, err := dictcodec.DecodeInbound(in)
	require.NoError(t, err)
	require.Equal(t, domain.InboundRecord{Text: refRaw(want, "text"), Attachment: refRaw(want, "attachment"), Command: refRaw(want, "command")}, inbound)
	login, err := dictcodec.DecodeLogin(in)
	require.NoError(t, err)
	require.Equal(t, domain.LoginRecord{Nickname: refRaw(want, "nickname"), Attachment: refRaw(want, "attachment")}, login)
	status, err := dictcodec.DecodeStatus(in)
	require.NoError(t, err)
	require.Equal(t, domain.StatusRecord{Status: refRaw(want, "status"), Attachment: refRaw(want, "attachment")}, status)
}

// TestTypedAgreesOnLargeObjects covers what the fuzzer rarely builds:
// objects with more keys than are checked as they come, a duplicate among
// them and a later error, keys that differ raw but not unescaped.
func TestTypedAgreesOnLargeObjects(t *testing.T) {
	keys := func(n int, from int) string {
		s := ""
		for i := range n {
			if i > 0 {
				s += ","
			}
			s += `"k` + string(rune('A'+(from+i)%50)) + `":""`
		}
		return s
	}
	for _, in := range []string{
		`{` + keys(20, 0) + `,"kC":"", "x" "y"}`,
		`{` + keys(20, 0) + `,"kC":"", "x" "y"`,
		`{` + keys(20, 0) + `,"kZ":"","kC":"","text":"a"}`,
		`{` + keys(20, 0) + `,"n":{` + keys(18, 0) + `,"kB":"", "z":}}`,
		`{` + keys(20, 0) + `,"n":{` + keys(3, 0) + `, "kB":""}, "kD":"", "q" "r"}`,
		`{` + keys(20, 0) + `,"n":[{` + keys(30, 0) + `}],"kD":"","q":"r"}`,
		`{` + keys(20, 0) + `,"n":[{` + keys(30, 0) + `}],"q":"r","text":"ok"}`,
		`{"a\b":"","a\\b":""}`,
		`{` + keys(20, 0) + `,"a\b":"","a\\b":""}`,
		`{` + keys(20, 0) + `,"a\"b":"","a\\\"b":"","a\\\\b":"","a\"b":""}`,
		`{"users":["a","b\"c"],"nickname":"x","text":"y"}`,
		`{"users":["a",[]],"nickname":"x","text":"y"}`,
		`{"users":{"a":"b"},"nickname":"x","text":"y"}`,
		`{"users":[],"text":[{"a":"b"}], "attachment" : "x\y"}`,
	} {
		checkTyped(t, []byte(in))
	}
}
