// Streams (docs/protocol.md, Streams): the function gets a channel of decoded inputs and
// produces a channel of outputs; each output is one STREAM_OUTPUT, the end one STREAM_END.
package main

import (
	"reflect"
	"sync"
)

// inbox is an unbounded queue: the frame reader must never block on one slow stream, or every
// other request on the replica would wait behind it.
type inbox struct {
	mu     sync.Mutex
	items  []frame
	signal chan struct{}
}

func (b *inbox) put(f frame) {
	b.mu.Lock()
	b.items = append(b.items, f)
	b.mu.Unlock()
	select {
	case b.signal <- struct{}{}:
	default:
	}
}

func (b *inbox) take() frame {
	for {
		b.mu.Lock()
		if len(b.items) > 0 {
			f := b.items[0]
			b.items = b.items[1:]
			b.mu.Unlock()
			return f
		}
		b.mu.Unlock()
		<-b.signal
	}
}

// stream is one open stream.
type stream struct {
	id                  uint32
	contentType, accept string
	inbox               inbox
	// failed is closed when the stream ended with an ERROR: the input pump stops feeding it.
	failed   chan struct{}
	failOnce sync.Once
}

func (r *replica) open(f frame) {
	s := &stream{id: f.id, contentType: f.first("content-type"), accept: f.first("accept"), failed: make(chan struct{})}
	s.inbox.signal = make(chan struct{}, 1)
	r.mu.Lock()
	r.streams[f.id] = s
	r.mu.Unlock()
	r.busy.Add(1)
	h := r.h
	in := reflect.MakeChan(reflect.ChanOf(reflect.BothDir, h.in), 0)
	go r.pump(s, in)
	var outputs, errs reflect.Value
	done := make(chan error, 1)
	if h.outParam {
		outputs = reflect.MakeChan(reflect.ChanOf(reflect.BothDir, h.streamOut), 0)
		go func() {
			_, err := h.call(in, outputs)
			// The function is done writing; closing for it ends the stream (a function that
			// closed it itself is fine too).
			func() {
				defer func() { _ = recover() }()
				outputs.Close()
			}()
			done <- err
		}()
	} else {
		results, err := h.callStream(in)
		if err != nil {
			r.fail(s, err)
			return
		}
		outputs = results[0]
		if h.errChan {
			errs = results[1]
		}
		close(done)
	}
	go r.drain(s, outputs, errs, done)
}

// callStream calls a function that returns its channels, which must return at once.
func (h *handler) callStream(in reflect.Value) (results []reflect.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{value: p, stack: userStack(3)}
		}
	}()
	return h.fn.Call([]reflect.Value{in}), nil
}

// pump decodes the stream's inputs into the function's input channel, and closes it at the end.
func (r *replica) pump(s *stream, in reflect.Value) {
	defer in.Close()
	for {
		f := s.inbox.take()
		if f.typ == frameStreamEnd {
			return
		}
		ct := f.first("content-type")
		if ct == "" {
			ct = s.contentType
		}
		err := checkTypes(ct, "")
		var v reflect.Value
		if err == nil {
			v, err = decodeArg(ct, f.payload, r.h.in)
		}
		if err != nil {
			r.fail(s, err)
			return
		}
		chosen, _, _ := reflect.Select([]reflect.SelectCase{
			{Dir: reflect.SelectSend, Chan: in, Send: v},
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(s.failed)},
		})
		if chosen == 1 {
			return
		}
	}
}

// drain sends every output, then STREAM_END, or ERROR on the function's first error.
func (r *replica) drain(s *stream, outputs, errs reflect.Value, done chan error) {
	cases := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: outputs}}
	if errs.IsValid() {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: errs})
	}
	for {
		i, v, ok := reflect.Select(cases)
		if i == 1 {
			if !ok {
				cases = cases[:1] // a closed error channel: no error
				continue
			}
			if !v.IsNil() {
				r.fail(s, v.Interface().(error))
				return
			}
			continue
		}
		if !ok {
			break
		}
		select {
		case <-s.failed:
			continue // ended by an ERROR: what the function still produces is dropped
		default:
		}
		t, body, err := encodeResult(v, s.accept, "")
		if err != nil {
			r.fail(s, err)
			return
		}
		_ = r.out.send(frame{typ: frameStreamOutput, id: s.id, headers: []header{{"content-type", t}}, payload: body})
	}
	if err := <-done; err != nil {
		r.fail(s, err)
		return
	}
	r.end(s, frame{typ: frameStreamEnd, id: s.id})
}

func (r *replica) fail(s *stream, err error) {
	r.end(s, frame{typ: frameError, id: s.id, payload: errorBody(err, "RIFF_FUNCTION_ERROR")})
}

// end sends the stream's last frame once, and forgets the stream.
func (r *replica) end(s *stream, last frame) {
	s.failOnce.Do(func() {
		if last.typ == frameError {
			close(s.failed)
		}
		r.mu.Lock()
		delete(r.streams, s.id)
		r.mu.Unlock()
		_ = r.out.send(last)
		r.busy.Done()
	})
}
