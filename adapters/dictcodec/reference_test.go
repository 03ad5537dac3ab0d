package dictcodec_test

// refDecode is a second, deliberately plain reading of PROTOCOL.md
// section 2: recursive descent over the bytes, linear duplicate search, one
// allocation per string. The fuzz target checks that Decode agrees with it
// on every input: same record, or an error at the same offset.
func refDecode(in []byte) (r *tRecord, errAt int, ok bool) {
	p := refParser{in: in}
	if len(in) == 0 {
		return nil, 0, false
	}
	p.space()
	if p.at() != '{' {
		return nil, p.pos, false
	}
	r, ok = p.object(1)
	if !ok {
		return nil, p.pos, false
	}
	p.space()
	if p.pos != len(in) {
		return nil, p.pos, false
	}
	return r, 0, true
}

// refParser leaves pos at the offending byte when it fails.
type refParser struct {
	in  []byte
	pos int
}

func (p *refParser) at() int {
	if p.pos < len(p.in) {
		return int(p.in[p.pos])
	}
	return -1
}

func (p *refParser) space() {
	for p.at() == ' ' || p.at() == '\t' || p.at() == '\r' || p.at() == '\n' {
		p.pos++
	}
}

// object parses the object at pos, which sits at the given depth.
func (p *refParser) object(depth int) (*tRecord, bool) {
	if depth > 32 {
		return nil, false
	}
	p.pos++
	p.space()
	var fields []tField
	if p.at() == '}' {
		if depth == 1 {
			return nil, false
		}
		p.pos++
		return newTRecord(), true
	}
	for {
		if p.at() != '"' {
			return nil, false
		}
		keyAt := p.pos
		key, ok := p.string()
		if !ok {
			return nil, false
		}
		for _, f := range fields {
			if f.Key == key {
				p.pos = keyAt
				return nil, false
			}
		}
		p.space()
		if p.at() != ':' {
			return nil, false
		}
		p.pos++
		p.space()
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		fields = append(fields, tField{Key: key, Value: v})
		p.space()
		switch p.at() {
		case ',':
			p.pos++
			p.space()
		case '}':
			p.pos++
			return newTRecord(fields...), true
		default:
			return nil, false
		}
	}
}

// list parses the list at pos, which sits at the given depth.
func (p *refParser) list(depth int) (tValue, bool) {
	if depth > 32 {
		return tValue{}, false
	}
	p.pos++
	p.space()
	var items []tValue
	if p.at() == ']' {
		p.pos++
		return tList(), true
	}
	for {
		v, ok := p.value(depth)
		if !ok {
			return tValue{}, false
		}
		items = append(items, v)
		p.space()
		switch p.at() {
		case ',':
			p.pos++
			p.space()
		case ']':
			p.pos++
			return tList(items...), true
		default:
			return tValue{}, false
		}
	}
}

// value parses a value inside a container at depth parent.
func (p *refParser) value(parent int) (tValue, bool) {
	switch p.at() {
	case '"':
		s, ok := p.string()
		return tStr(s), ok
	case '{':
		r, ok := p.object(parent + 1)
		return tRec(r), ok
	case '[':
		return p.list(parent + 1)
	}
	return tValue{}, false
}

func (p *refParser) string() (string, bool) {
	open := p.pos
	var out []byte
	for i := open + 1; i < len(p.in); i++ {
		c := p.in[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return string(out), true
		case c == '\\' && i+1 < len(p.in) && (p.in[i+1] == '"' || p.in[i+1] == '\\'):
			i++
			out = append(out, p.in[i])
		default:
			out = append(out, c)
		}
	}
	p.pos = open
	return "", false
}
