// The replica's loop: report READY, answer INVOKE frames each on its own goroutine, run
// streams, and on SHUTDOWN finish what is in flight and exit (docs/protocol.md, Lifecycle).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sync"
)

// replica is one running function and its channel to the daemon.
type replica struct {
	h       *handler
	out     *frameWriter
	busy    sync.WaitGroup
	mu      sync.Mutex
	streams map[uint32]*stream
}

// serve runs a Go function as a riff replica; load returns the function (or why it cannot be
// loaded, sent as INIT_FAILED). It never returns.
func serve(name string, load func() (any, error)) {
	conn := os.NewFile(3, "riff-frames")
	if _, err := conn.Stat(); err != nil {
		fmt.Fprintln(os.Stderr, "riff: fd 3 is not open: this program is a riff replica, started by the riff daemon")
		os.Exit(2)
	}
	out := &frameWriter{w: conn}
	fn, err := load()
	var h *handler
	if err == nil {
		h, err = newHandler(name, reflect.ValueOf(fn))
	}
	if err != nil {
		_ = out.send(frame{typ: frameInitFailed, payload: errorBody(err, "RIFF_FUNCTION_STARTUP_FAILED")})
		os.Exit(1)
	}
	r := &replica{h: h, out: out, streams: map[uint32]*stream{}}
	shape := "request-reply"
	if h.stream {
		shape = "stream"
	}
	_ = out.send(frame{typ: frameReady, headers: []header{{"riff-shape", shape}}})
	in := newFrameReader(conn)
	for {
		f, err := in.next()
		if errors.Is(err, io.EOF) {
			os.Exit(0) // the daemon went away: no reply can be delivered
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "riff: %v\n", err)
			os.Exit(1)
		}
		switch f.typ {
		case frameInvoke:
			r.busy.Add(1)
			go r.invoke(f)
		case frameStreamOpen:
			r.open(f)
		case frameStreamInput, frameStreamEnd:
			r.mu.Lock()
			s := r.streams[f.id]
			r.mu.Unlock()
			if s != nil { // nil: ended by an ERROR, and inputs still on their way are ignored
				s.inbox.put(f)
			}
		case frameShutdown:
			r.mu.Lock()
			for _, s := range r.streams {
				s.inbox.put(frame{typ: frameStreamEnd})
			}
			r.mu.Unlock()
			r.busy.Wait()
			os.Exit(0)
		default:
			fmt.Fprintf(os.Stderr, "riff: unexpected frame type %d\n", f.typ)
		}
	}
}

// invoke answers one INVOKE with exactly one REPLY or ERROR.
func (r *replica) invoke(f frame) {
	defer r.busy.Done()
	contentType, accept := f.first("content-type"), f.first("accept")
	t, body, err := r.run(f, contentType, accept)
	if err != nil {
		_ = r.out.send(frame{typ: frameError, id: f.id, payload: errorBody(err, "RIFF_FUNCTION_ERROR")})
		return
	}
	_ = r.out.send(frame{typ: frameReply, id: f.id, headers: []header{{"content-type", t}}, payload: body})
}

func (r *replica) run(f frame, contentType, accept string) (string, []byte, error) {
	if err := checkTypes(contentType, accept); err != nil {
		return "", nil, err
	}
	var args []reflect.Value
	if r.h.in != nil {
		arg, err := decodeArg(contentType, f.payload, r.h.in)
		if err != nil {
			return "", nil, err
		}
		args = append(args, arg)
	}
	v, err := r.h.call(args...)
	if err != nil {
		return "", nil, err
	}
	return encodeResult(v, accept, contentType)
}
