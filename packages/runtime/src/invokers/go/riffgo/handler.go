// What a Go function looks like to riff: its shape (request-reply or stream), taken from its
// type by reflection, and how one call runs, with errors and panics turned into error bodies.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
)

var errorType = reflect.TypeOf((*error)(nil)).Elem()

// handler is the user's function and what its type says about calling it.
type handler struct {
	name string
	fn   reflect.Value
	// in is the parameter's type; nil for a function of no arguments.
	in reflect.Type
	// result: the function returns a value; fails: it returns an error (last).
	result, fails bool
	// stream: the function takes a channel. outParam: its outputs are a second, send-only
	// channel parameter rather than a returned channel; errChan: it also returns <-chan error.
	stream, outParam, errChan bool
	streamOut                 reflect.Type
}

const shapes = "func(T) U, func(T) (U, error), func(T), func(T) error, func() U, func() (U, error), " +
	"func(<-chan T) <-chan U, func(<-chan T) (<-chan U, <-chan error) or func(<-chan T, chan<- U)"

// newHandler checks that fn is a function riff can call, and how.
func newHandler(name string, fn reflect.Value) (*handler, error) {
	for fn.Kind() == reflect.Pointer && !fn.IsNil() {
		fn = fn.Elem() // a plugin's exported variable holding a func
	}
	if fn.Kind() != reflect.Func || fn.IsNil() {
		return nil, fmt.Errorf("%s is a %s, not a func; riff runs one of: %s", name, fn.Type(), shapes)
	}
	t := fn.Type()
	h := &handler{name: name, fn: fn}
	bad := func(why string) (*handler, error) {
		return nil, fmt.Errorf("%s has type %s, which riff cannot run: %s; use one of: %s", name, t, why, shapes)
	}
	if t.IsVariadic() {
		return bad("it is variadic")
	}
	if t.NumIn() > 0 && t.In(0).Kind() == reflect.Chan {
		return newStreamHandler(h, t, bad)
	}
	if t.NumIn() > 1 {
		return bad(fmt.Sprintf("it takes %d parameters, and a function takes one value (or none)", t.NumIn()))
	}
	if t.NumIn() == 1 {
		h.in = t.In(0)
		if h.in.Kind() == reflect.Interface && h.in.NumMethod() > 0 || h.in.Kind() == reflect.Func {
			return bad(fmt.Sprintf("a payload cannot be decoded into %s", h.in))
		}
	}
	switch {
	case t.NumOut() == 0:
	case t.NumOut() == 1 && t.Out(0) == errorType:
		h.fails = true
	case t.NumOut() == 1:
		h.result = true
	case t.NumOut() == 2 && t.Out(1) == errorType:
		h.result, h.fails = true, true
	default:
		return bad("its results are not U, error, or (U, error)")
	}
	return h, nil
}

func newStreamHandler(h *handler, t reflect.Type, bad func(string) (*handler, error)) (*handler, error) {
	h.stream = true
	if t.In(0).ChanDir()&reflect.RecvDir == 0 {
		return bad("its input channel is send-only")
	}
	h.in = t.In(0).Elem()
	switch {
	case t.NumIn() == 2 && t.In(1).Kind() == reflect.Chan && t.In(1).ChanDir()&reflect.SendDir != 0:
		h.outParam, h.streamOut = true, t.In(1).Elem()
		if t.NumOut() > 1 || t.NumOut() == 1 && t.Out(0) != errorType {
			return bad("with an output channel parameter it may return only an error")
		}
		h.fails = t.NumOut() == 1
	case t.NumIn() != 1:
		return bad("a stream takes an input channel and, optionally, an output channel")
	case t.NumOut() >= 1 && t.Out(0).Kind() == reflect.Chan && t.Out(0).ChanDir()&reflect.RecvDir != 0:
		h.streamOut = t.Out(0).Elem()
		if t.NumOut() == 2 {
			if t.Out(1).Kind() != reflect.Chan || t.Out(1).Elem() != errorType {
				return bad("its second result must be <-chan error")
			}
			h.errChan = true
		} else if t.NumOut() > 2 {
			return bad("it returns more than an output and an error channel")
		}
	default:
		return bad("a stream returns its output channel, or takes one as its second parameter")
	}
	return h, nil
}

// call runs the function on one argument, turning a panic into an error. value is invalid
// for a function with no result.
func (h *handler) call(args ...reflect.Value) (value reflect.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: userStack(3)}
		}
	}()
	out := h.fn.Call(args)
	if h.fails {
		if e := out[len(out)-1]; !e.IsNil() {
			return reflect.Value{}, e.Interface().(error)
		}
	}
	if h.result {
		return out[0], nil
	}
	return reflect.Value{}, nil
}

// panicError is a panic in the function, kept with the stack of the function's own frames.
type panicError struct {
	value any
	stack string
}

func (p *panicError) Error() string { return fmt.Sprint(p.value) }

// Unwrap lets a panic with an error value be classified as that error (NonRetriableError).
func (p *panicError) Unwrap() error {
	if e, ok := p.value.(error); ok {
		return e
	}
	return nil
}

// userPackage is the import path of the function's package and the name it is known by, set by
// the generated main: a stack then reads square.Square, not riff.fn.Square. dir is the folder
// it was built in (empty for a plugin): stack paths are made relative to it, else to the
// working directory.
var userPackage struct{ path, name, dir string }

// userStack is the stack of the panicking goroutine without riff's, reflect's and the
// runtime's frames, with paths relative to the revision folder when they are inside it.
func userStack(skip int) string {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(skip, pcs)])
	base := userPackage.dir
	if base == "" {
		base, _ = os.Getwd()
	}
	var b strings.Builder
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") && !strings.HasPrefix(f.Function, "reflect.") && !strings.HasPrefix(f.Function, "main.") {
			file := f.File
			if rel, err := filepath.Rel(base, file); err == nil && !strings.HasPrefix(rel, "..") {
				file = rel
			}
			name := f.Function
			// Symbol names escape the dots of a path's last element (riff%2efn).
			if path := strings.ReplaceAll(userPackage.path, ".", "%2e"); path != "" && strings.HasPrefix(name, path+".") {
				name = userPackage.name + name[len(path):]
			}
			fmt.Fprintf(&b, "%s(...)\n\t%s:%d\n", name, file, f.Line)
		}
		if !more {
			return b.String()
		}
	}
}

// typeName is an error's Go type without the pointer star, as Go prints it (`errors.errorString`).
func typeName(err error) string {
	return strings.TrimPrefix(reflect.TypeOf(err).String(), "*")
}

// nonRetriable: an error of a type named NonRetriableError, anywhere in its chain, says that
// running the message again cannot help (docs/invokers.md).
func nonRetriable(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		t := reflect.TypeOf(e)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Name() == "NonRetriableError" {
			return true
		}
	}
	return false
}

// errorBody is the JSON error body of an ERROR or INIT_FAILED frame (docs/protocol.md).
func errorBody(err error, code string) []byte {
	body := map[string]string{"code": code, "message": err.Error()}
	var ce *contentError
	var pe *panicError
	switch {
	case errors.As(err, &ce):
		body["code"], body["name"] = ce.code, "ContentError"
	case nonRetriable(err):
		body["name"] = "NonRetriableError"
	case errors.As(err, &pe):
		body["name"] = "panic"
		if inner := pe.Unwrap(); inner != nil {
			body["name"] = typeName(inner)
		}
	default:
		body["name"] = typeName(err)
	}
	if errors.As(err, &pe) {
		body["stack"] = "panic: " + pe.Error() + "\n\n" + pe.stack
	}
	if body["message"] == "" {
		body["message"] = body["name"]
	}
	b, _ := json.Marshal(body)
	return b
}
