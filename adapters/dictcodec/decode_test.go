package dictcodec_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
)

func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *tRecord
	}{
		// The examples of seeds/Lab1.md, spaces after ',' and ':' included.
		{
			name: "Lab1 login",
			in:   `{"nickname":"Ivan"}`,
			want: rec(pair("nickname", str("Ivan"))),
		},
		{
			name: "Lab1 status success",
			in:   `{"status":"success"}`,
			want: rec(pair("status", str("success"))),
		},
		{
			name: "Lab1 status error",
			in:   `{"status":"error: this nickname is already taken"}`,
			want: rec(pair("status", str("error: this nickname is already taken"))),
		},
		{
			name: "Lab1 text",
			in:   `{"text":"Hello"}`,
			want: rec(pair("text", str("Hello"))),
		},
		{
			name: "Lab1 text with attachment, space after comma",
			in:   `{"text":"Hello", "attachment":"1.jpg"}`,
			want: rec(pair("text", str("Hello")), pair("attachment", str("1.jpg"))),
		},
		{
			name: "Lab1 relayed, spaces after commas and a colon",
			in:   `{"time":"2021-09-27 12:34:56.789000+00:00", "nickname": "Ivan", "text":"Hello"}`,
			want: rec(pair("time", str(stamp)), pair("nickname", str("Ivan")), pair("text", str("Hello"))),
		},
		{
			name: "Lab1 relayed with attachment",
			in:   `{"time":"2021-09-27 12:34:56.789000+00:00", "nickname": "Ivan", "text":"Hello", "attachment":"1.jpg"}`,
			want: rec(pair("time", str(stamp)), pair("nickname", str("Ivan")), pair("text", str("Hello")),
				pair("attachment", str("1.jpg"))),
		},
		{
			name: "ASCII whitespace between all tokens and around the object",
			in:   " \t\r\n{ \"a\" \t:\r\n\"b\" ,\n\"c\" : [ \"d\" , { } , [ ] ] } \n",
			want: rec(pair("a", str("b")), pair("c", tList(str("d"), tRec(rec()), tList()))),
		},
		{
			name: "empty key and empty value",
			in:   `{"":""}`,
			want: rec(pair("", str(""))),
		},
		{
			name: "escaped quote and backslash",
			in:   `{"text":"User \"Ivan\" said C:\\dir\\"}`,
			want: rec(pair("text", str(`User "Ivan" said C:\dir\`))),
		},
		{
			name: "escapes at both ends of a string",
			in:   `{"a":"\"x\\"}`,
			want: rec(pair("a", str(`"x\`))),
		},
		{
			name: "backslash before another byte stands for itself",
			in:   `{"a":"x\ny\t\u00e9\ é\q"}`,
			want: rec(pair("a", str(`x\ny\t\u00e9\ é\q`))),
		},
		{
			name: "escaped backslash then lone backslash",
			in:   `{"a":"\\\n"}`,
			want: rec(pair("a", str(`\\n`))),
		},
		{
			name: "escapes in a key",
			in:   `{"k\"\\":"v"}`,
			want: rec(pair(`k"\`, str("v"))),
		},
		{
			name: "raw control bytes, newline and NUL inside strings",
			in:   "{\"a\":\"l1\nl2\r\x00\x01\x7f\tend\"}",
			want: rec(pair("a", str("l1\nl2\r\x00\x01\x7f\tend"))),
		},
		{
			name: "structural bytes inside strings",
			in:   `{"{":"}[],: "}`,
			want: rec(pair("{", str("}[],: "))),
		},
		{
			name: "unicode",
			in:   `{"текст":"Привет, 世界 😀"}`,
			want: rec(pair("текст", str("Привет, 世界 😀"))),
		},
		{
			name: "invalid UTF-8 is kept as it is",
			in:   "{\"\xff\":\"\xc3(\xfe\"}",
			want: rec(pair("\xff", str("\xc3(\xfe"))),
		},
		{
			name: "nested records, empty nested record",
			in:   `{"a":{"b":{"c":"d"},"e":{}}}`,
			want: rec(pair("a", tRec(rec(pair("b", tRec(rec(pair("c", str("d"))))), pair("e", tRec(rec())))))),
		},
		{
			name: "lists of every kind of value",
			in:   `{"a":["x",{"b":"c"},[],["d","e"]]}`,
			want: rec(pair("a", tList(str("x"), tRec(rec(pair("b", str("c")))),
				tList(), tList(str("d"), str("e"))))),
		},
		{
			name: "same key in different objects",
			in:   `{"a":{"a":"x"},"b":[{"a":"y"},{"a":"z"}]}`,
			want: rec(pair("a", tRec(rec(pair("a", str("x"))))),
				pair("b", tList(tRec(rec(pair("a", str("y")))), tRec(rec(pair("a", str("z"))))))),
		},
		{
			name: "keys equal only before unescaping are distinct",
			in:   `{"\"":"1","\\\"":"2"}`,
			want: rec(pair(`"`, str("1")), pair(`\"`, str("2"))),
		},
		{
			name: "many distinct keys",
			in:   manyKeys(40, ""),
			want: manyKeysRecord(40),
		},
		{
			name: "depth 32 with lists",
			in:   `{"a":` + strings.Repeat("[", 31) + `"x"` + strings.Repeat("]", 31) + `}`,
			want: rec(pair("a", chain(2, str("x")))),
		},
		{
			name: "depth 32 with objects",
			in:   strings.Repeat(`{"a":`, 31) + `{}` + strings.Repeat("}", 31),
			want: nestedObjects(32),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, _, ok := refDecode([]byte(tt.in))
			require.True(t, ok, "the reference reader refuses it")
			require.Equal(t, tt.want, ref, "the reference reader reads it otherwise")
			checkTyped(t, []byte(tt.in))
		})
	}
}

// decoders are the package's four decoders, each reduced to its error.
var decoders = map[string]func([]byte) error{
	"DecodeLogin":   func(in []byte) error { _, err := dictcodec.DecodeLogin(in); return err },
	"DecodeInbound": func(in []byte) error { _, err := dictcodec.DecodeInbound(in); return err },
	"DecodeStatus":  func(in []byte) error { _, err := dictcodec.DecodeStatus(in); return err },
	"DecodeRelay":   func(in []byte) error { _, err := dictcodec.DecodeRelay(in); return err },
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		offset int
		msg    string
	}{
		{"empty input", "", 0, "empty input"},
		{"only whitespace", " \r\n\t", 4, "expected '{' at top level, found end of input"},
		{"top level is a list", `["a"]`, 0, "expected '{' at top level, found '['"},
		{"top level is a string", ` "a"`, 1, `expected '{' at top level, found '"'`},
		{"top level is a bare word", `null`, 0, "expected '{' at top level, found 'n'"},
		{"empty top-level object", `{}`, 1, "empty top-level object"},
		{"empty top-level object with whitespace", "{ \n }", 4, "empty top-level object"},
		{"unterminated key", `{"abc`, 1, "unterminated string"},
		{"unterminated value", `{"a":"bc`, 5, "unterminated string"},
		{"closing quote escaped", `{"a":"b\"}`, 5, "unterminated string"},
		{"input ends in a backslash", `{"a":"b\`, 5, "unterminated string"},
		{"unterminated string in a list", `{"a":["b","c]}`, 10, "unterminated string"},
		{"missing colon", `{"a" "b"}`, 5, `missing ':' after key, found '"'`},
		{"missing colon before brace", `{"a"}`, 4, "missing ':' after key, found '}'"},
		{"missing colon at end", `{"a"`, 4, "missing ':' after key, found end of input"},
		{"equals instead of colon", `{"a"="b"}`, 4, "missing ':' after key, found '='"},
		{"missing comma between pairs", `{"a":"b" "c":"d"}`, 9, `missing ',' or '}' after value, found '"'`},
		{"missing comma between list items", `{"a":["b" "c"]}`, 10, `missing ',' or ']' after list item, found '"'`},
		{"missing comma after nested object", `{"a":{"b":"c"}"d":"e"}`, 14, `missing ',' or '}' after value, found '"'`},
		{"semicolon instead of comma", `{"a":"b";"c":"d"}`, 8, "missing ',' or '}' after value, found ';'"},
		{"object ends early", `{"a":"b"`, 8, "missing ',' or '}' after value, found end of input"},
		{"list ends early", `{"a":["b"`, 9, "missing ',' or ']' after list item, found end of input"},
		{"list closed by brace", `{"a":["b"}`, 9, "missing ',' or ']' after list item, found '}'"},
		{"object closed by bracket", `{"a":{"b":"c"]}`, 13, "missing ',' or '}' after value, found ']'"},
		{"trailing byte", `{"a":"b"}x`, 9, "expected end of input after the top-level object, found 'x'"},
		{"second record", `{"a":"b"} {"c":"d"}`, 10, "expected end of input after the top-level object, found '{'"},
		{"extra closing brace", `{"a":"b"}}`, 9, "expected end of input after the top-level object, found '}'"},
		{"NUL after the object", "{\"a\":\"b\"}\n\x00", 10, "expected end of input after the top-level object, found byte 0x00"},
		{"duplicate key", `{"text":"a","text":"b"}`, 12, `duplicate key "text"`},
		{"duplicate key after other keys", `{"a":"1","b":"2","a":"3"}`, 17, `duplicate key "a"`},
		{"duplicate key whose value is an object", `{"a":{},"a":{}}`, 8, `duplicate key "a"`},
		{"duplicate key in a nested object", `{"x":{"a":"1","a":"2"}}`, 14, `duplicate key "a"`},
		{"duplicate key once unescaped", `{"\\q":"1","\q":"2"}`, 11, `duplicate key "\\q"`},
		{"duplicate empty key", `{"":"1","":"2"}`, 8, `duplicate key ""`},
		{"duplicate among many keys", manyKeys(40, `,"k17":""`), len(manyKeys(40, "")), `duplicate key "k17"`},
		{"duplicate long key is cut short", `{"` + strings.Repeat("k", 50) + `":"","` + strings.Repeat("k", 50) + `":""}`,
			57, `duplicate key "` + strings.Repeat("k", 40) + `"...`},
		{"depth 33 with lists", `{"a":` + strings.Repeat("[", 32), 36, "nesting deeper than 32"},
		{"depth 33 with objects", strings.Repeat(`{"a":`, 32) + `{}`, 160, "nesting deeper than 32"},
		{"key is not a string", `{a:"b"}`, 1, "expected string key, found 'a'"},
		{"key is an object", `{{}:"b"}`, 1, "expected string key, found '{'"},
		{"single-quoted key", `{'a':'b'}`, 1, `expected string key, found '\''`},
		{"value is a number", `{"a":1}`, 5, "expected value, found '1'"},
		{"value is a bare word", `{"a":true}`, 5, "expected value, found 't'"},
		{"value is missing", `{"a":}`, 5, "expected value, found '}'"},
		{"value is a non-ASCII byte", "{\"a\":\xff}", 5, "expected value, found byte 0xff"},
		{"input ends after colon", `{"a":`, 5, "expected value, found end of input"},
		{"input ends after brace", `{`, 1, "expected string key, found end of input"},
		{"input ends after comma", `{"a":"b",`, 9, "expected string key, found end of input"},
		{"input ends after bracket", `{"a":[`, 6, "expected value, found end of input"},
		{"trailing comma in object", `{"a":"b",}`, 9, "expected string key, found '}'"},
		{"trailing comma in list", `{"a":["b",]}`, 10, "expected value, found ']'"},
		{"leading comma in object", `{,"a":"b"}`, 1, "expected string key, found ','"},
		{"leading comma in list", `{"a":[,"b"]}`, 6, "expected value, found ','"},
		{"two commas", `{"a":"b",,"c":"d"}`, 9, "expected string key, found ','"},
		{"vertical tab is not whitespace", "{\v\"a\":\"b\"}", 1, "expected string key, found byte 0x0b"},
		{"form feed is not whitespace", "{\"a\":\f\"b\"}", 5, "expected value, found byte 0x0c"},
		{"no-break space is not whitespace", "{\"a\":\u00a0\"b\"}", 5, "expected value, found byte 0xc2"},
		{"NUL between tokens", "{\"a\":\"b\"\x00}", 8, "missing ',' or '}' after value, found byte 0x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, decode := range decoders {
				err := decode([]byte(tt.in))
				require.ErrorIs(t, err, dictcodec.ErrSyntax, name)
				var se *dictcodec.SyntaxError
				require.ErrorAs(t, err, &se, name)
				assert.Equal(t, tt.offset, se.Offset, "%s: offset", name)
				assert.Equal(t, tt.msg, se.Msg, name)
				assert.Equal(t, fmt.Sprintf("dictcodec: %s at byte %d", tt.msg, tt.offset), err.Error(), name)
			}
		})
	}
}

func TestSyntaxErrorReads(t *testing.T) {
	err := error(&dictcodec.SyntaxError{Offset: 17, Msg: `duplicate key "text"`})
	assert.Equal(t, `dictcodec: duplicate key "text" at byte 17`, err.Error())
	assert.True(t, errors.Is(fmt.Errorf("session: %w", err), dictcodec.ErrSyntax))
	assert.False(t, errors.Is(errors.New("other"), dictcodec.ErrSyntax))
}

func TestDecodeDoesNotAliasInput(t *testing.T) {
	in := []byte(`{"time":"t","nickname":"a\"b","text":"plain","list":["c",{"d":"e"}],"users":["x","y\\z"]}`)
	got, err := dictcodec.DecodeRelay(in)
	require.NoError(t, err)
	want, err := dictcodec.DecodeRelay(append([]byte(nil), in...))
	require.NoError(t, err)

	for i := range in {
		in[i] = 'X'
	}
	assert.Equal(t, want, got)
	assert.Equal(t, []string{"x", `y\z`}, got.Users)
	assert.Equal(t, `a"b`, got.Nickname.Str)
}

// Every proper prefix of a record is a record cut short: it must be refused,
// at an offset inside the prefix, never accepted and never a panic.
func TestDecodeRejectsEveryTruncation(t *testing.T) {
	inputs := []string{
		`{"time":"2021-09-27 12:34:56.789000+00:00", "nickname": "Ivan", "text":"Hello"}`,
		`{"a":{"b":["c",{},[]]},"e\"\\":"f\\\"g"}`,
		"{ \"a\" : [ \"b\" , { \"c\" : \"d\" } ] }",
	}
	for _, in := range inputs {
		for name, decode := range decoders {
			require.NoError(t, decode([]byte(in)), in)
			for n := range len(in) {
				err := decode([]byte(in[:n]))
				var se *dictcodec.SyntaxError
				require.ErrorAs(t, err, &se, "%s: prefix %q", name, in[:n])
				assert.LessOrEqual(t, se.Offset, n, "%s: prefix %q", name, in[:n])
			}
		}
	}
}

// A frame holding two records, or a record and junk, is refused at the
// first byte after the first record, wherever the split falls.
func TestDecodeRejectsAnythingAfterTheRecord(t *testing.T) {
	first := `{"text":"Hello"}`
	for _, rest := range []string{`{"text":"Hello"}`, `x`, `,`, `"`, `}`, "\x00"} {
		for name, decode := range decoders {
			err := decode([]byte(first + " " + rest))
			var se *dictcodec.SyntaxError
			require.ErrorAs(t, err, &se, "%s: %s", name, rest)
			assert.Equal(t, len(first)+1, se.Offset, "%s: %s", name, rest)
		}
	}
}

func TestDecodeAllocations(t *testing.T) {
	relay := encode(relayed())
	inbound := []byte(`{"text":"The quick brown fox","attachment":"1.jpg"}`)
	empty := []byte(`{"text":"","x":["y"]}`)
	who := []byte(`{"nickname":"SERVER","text":"Online (2): a, b","users":["a","b"]}`)
	for _, tt := range []struct {
		name   string
		decode func() error
		allocs float64
	}{
		// One allocation holds every string kept.
		{"relayed message", func() error { _, err := dictcodec.DecodeRelay(relay); return err }, 1},
		{"message with attachment", func() error { _, err := dictcodec.DecodeInbound(inbound); return err }, 1},
		// An empty text and nothing else kept: no allocation at all.
		{"nothing kept", func() error { _, err := dictcodec.DecodeInbound(empty); return err }, 0},
		// The "users" slice besides.
		{"who answer", func() error { _, err := dictcodec.DecodeRelay(who); return err }, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(100, func() {
				if err := tt.decode(); err != nil {
					t.Fatal(err)
				}
			})
			assert.LessOrEqual(t, allocs, tt.allocs)
		})
	}
}

// manyKeys returns an object with n keys k0, k1, ... and extra before its
// closing brace.
func manyKeys(n int, extra string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%d":""`, i)
	}
	return b.String() + extra + "}"
}

func manyKeysRecord(n int) *tRecord {
	r := rec()
	for i := range n {
		r.Append(fmt.Sprintf("k%d", i), str(""))
	}
	return r
}

// nestedObjects returns {"a":{"a":...{}}} with depth levels.
func nestedObjects(depth int) *tRecord {
	r := rec()
	for range depth - 1 {
		r = rec(pair("a", tRec(r)))
	}
	return r
}

// Objects of more than 16 keys have their duplicates found by sorting, when
// they close or when the input fails inside them, and large containers
// were once a special case: all of it must work when such containers nest,
// close out of order and fail. The decoders must agree with the reference
// reader on each.
func TestDecodeLargeContainers(t *testing.T) {
	items := func(n int, item string) string {
		return strings.TrimSuffix(strings.Repeat(item+",", n), ",")
	}
	keys := func(from, n int, value string) string {
		var b strings.Builder
		for i := from; i < from+n; i++ {
			if i > from {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%d":%s`, i, value)
		}
		return b.String()
	}
	tests := []struct {
		name string
		in   string
	}{
		{"large list inside a large list", `{"a":[[` + items(300, `""`) + `],` + items(400, `"x"`) + `]}`},
		{"large lists after a small one", `{"a":[["x"],[` + items(255, `[]`) + `],[` + items(254, `{}`) + `],[` + items(1000, `""`) + `]]}`},
		{"large object inside a large object", `{` + keys(0, 20, `""`) + `,"in":{` + keys(0, 300, `"v"`) + `},` + keys(20, 300, `[]`) + `}`},
		{"duplicate in an outer object after a large inner one", `{` + keys(0, 20, `""`) + `,"in":{` + keys(0, 30, `""`) + `},"k3":""}`},
		{"duplicate in an inner object", `{` + keys(0, 20, `""`) + `,"in":{` + keys(0, 30, `""`) + `,"k29":""}}`},
		{"duplicate among 300 keys", `{` + keys(0, 300, `""`) + `,"k299":""}`},
		{"duplicate once unescaped among many keys", `{` + keys(0, 20, `""`) + `,"\\q":"","\q":""}`},
		{"unterminated inside a large list", `{"a":[` + items(300, `""`) + `,"x]}`},
		{"depth 33 inside a large list", `{"a":[` + items(300, `[]`) + `,` + strings.Repeat("[", 31) + `]}`},
		{"missing comma inside a large object", `{` + keys(0, 300, `""`) + ` "z":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkTyped(t, []byte(tt.in))
		})
	}
}
