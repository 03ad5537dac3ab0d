package framing

// SetWriteChunk makes Conns created from now on re-arm their write deadline
// every n bytes, and returns a function that restores the default. Tests
// that call it must not run in parallel.
func SetWriteChunk(n int) (restore func()) {
	old := writeChunk
	writeChunk = n
	return func() { writeChunk = old }
}

// ConnBuffered returns how many bytes c's Reader holds in its buffer, read
// from the connection but not yet consumed.
func ConnBuffered(c *Conn) int { return c.r.br.Buffered() }

// WriterScratch returns how much scratch w holds between writes: slots of
// its iovec slices, and one for each pooled buffer it has not given back.
func WriterScratch(w *Writer) int {
	n := cap(w.vec) + cap(w.part)
	if w.packed != nil {
		n++
	}
	if w.vecs != nil {
		n++
	}
	return n
}

// SkipFrame discards what is left of r's current frame, as its next read
// does first.
func (r *Reader) SkipFrame() error { return r.skipFrame() }
