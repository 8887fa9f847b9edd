// riff's replica frame format (docs/protocol.md) in Go, byte for byte what packages/protocol
// writes and parses. Standard library only: it is compiled into every Go function.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Frame types: explicit numbers, the wire format shared with packages/protocol's FrameType.
const (
	frameReady        = 1
	frameInitFailed   = 2
	frameInvoke       = 3
	frameReply        = 4
	frameError        = 5
	frameStreamOpen   = 6
	frameStreamInput  = 7
	frameStreamOutput = 8
	frameStreamEnd    = 9
	frameShutdown     = 10
	frameLoad         = 11
)

// maxFrameBytes is the default cap on a declared frame length, as DEFAULT_MAX_FRAME_BYTES.
const maxFrameBytes = 64 * 1024 * 1024

// fixedBytes: u8 type, u32 id, u16 header count, after the u32 length prefix.
const fixedBytes = 1 + 4 + 2

// header is one entry; a multi-valued header is several entries with the same name, in order.
type header struct{ name, value string }

// frame is one decoded frame.
type frame struct {
	typ     byte
	id      uint32
	headers []header
	payload []byte
}

// first is the first value of a header, or "" when the frame has none.
func (f *frame) first(name string) string {
	for _, h := range f.headers {
		if h.name == name {
			return h.value
		}
	}
	return ""
}

// encodeFrame writes a frame into one buffer, so that it can be written whole.
func encodeFrame(f frame) ([]byte, error) {
	if len(f.headers) > 0xffff {
		return nil, fmt.Errorf("frame has %d header entries; the limit is 65535", len(f.headers))
	}
	length := fixedBytes + len(f.payload)
	for _, h := range f.headers {
		if len(h.name) > 0xffff {
			return nil, fmt.Errorf("header name is %d bytes; the limit is 65535", len(h.name))
		}
		length += 2 + len(h.name) + 4 + len(h.value)
	}
	if uint64(length) > 0xffffffff {
		return nil, fmt.Errorf("frame is %d bytes; the format's limit is 4294967295", length)
	}
	out := make([]byte, 4+length)
	binary.BigEndian.PutUint32(out, uint32(length))
	out[4] = f.typ
	binary.BigEndian.PutUint32(out[5:], f.id)
	binary.BigEndian.PutUint16(out[9:], uint16(len(f.headers)))
	o := 11
	for _, h := range f.headers {
		binary.BigEndian.PutUint16(out[o:], uint16(len(h.name)))
		o += 2 + copy(out[o+2:], h.name)
		binary.BigEndian.PutUint32(out[o:], uint32(len(h.value)))
		o += 4 + copy(out[o+4:], h.value)
	}
	copy(out[o:], f.payload)
	return out, nil
}

// errProtocol marks a malformed stream: fatal, since it cannot be resynchronised.
var errProtocol = errors.New("riff protocol error")

// frameReader reads whole frames from a byte stream that may split or join them anyhow.
type frameReader struct {
	r   *bufio.Reader
	max uint32
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64*1024), max: maxFrameBytes}
}

// next returns the next frame; io.EOF at a clean end between frames.
func (fr *frameReader) next() (frame, error) {
	var prefix [4]byte
	if _, err := io.ReadFull(fr.r, prefix[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return frame{}, fmt.Errorf("%w: the stream ended inside a length prefix", errProtocol)
		}
		return frame{}, err
	}
	length := binary.BigEndian.Uint32(prefix[:])
	// Checked before allocating: a broken peer must not make us allocate gigabytes.
	if length > fr.max {
		return frame{}, fmt.Errorf("%w: frame length %d exceeds the limit of %d bytes", errProtocol, length, fr.max)
	}
	if length < fixedBytes {
		return frame{}, fmt.Errorf("%w: frame length %d is below the minimum of %d", errProtocol, length, fixedBytes)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(fr.r, body); err != nil {
		return frame{}, fmt.Errorf("%w: the stream ended inside a frame", errProtocol)
	}
	return parseBody(body)
}

// parseBody decodes what follows the length prefix.
func parseBody(body []byte) (frame, error) {
	f := frame{typ: body[0], id: binary.BigEndian.Uint32(body[1:5])}
	count := int(binary.BigEndian.Uint16(body[5:7]))
	o := 7
	short := fmt.Errorf("%w: a header runs past the end of its frame", errProtocol)
	for i := 0; i < count; i++ {
		if o+2 > len(body) {
			return frame{}, short
		}
		n := int(binary.BigEndian.Uint16(body[o:]))
		o += 2
		if o+n+4 > len(body) {
			return frame{}, short
		}
		// Lower-cased anyway, to tolerate a sloppy sender (docs/protocol.md).
		name := strings.ToLower(string(body[o : o+n]))
		o += n
		v := int(binary.BigEndian.Uint32(body[o:]))
		o += 4
		if v > len(body)-o {
			return frame{}, short
		}
		f.headers = append(f.headers, header{name, string(body[o : o+v])})
		o += v
	}
	f.payload = body[o:]
	return f, nil
}

// frameWriter writes whole frames from many goroutines without interleaving their bytes.
type frameWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (fw *frameWriter) send(f frame) error {
	b, err := encodeFrame(f)
	if err != nil {
		return err
	}
	fw.mu.Lock()
	defer fw.mu.Unlock()
	_, err = fw.w.Write(b)
	return err
}
