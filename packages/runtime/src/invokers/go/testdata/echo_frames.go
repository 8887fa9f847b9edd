//go:build ignore

// A test driver for frames.go (built by go-frames.test.ts with it, never shipped in a function):
// reads frames on stdin and writes each back re-encoded on stdout; a protocol error goes to
// stderr with exit code 1. With the argument "example" it writes docs/protocol.md's INVOKE.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

func main() {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	if len(os.Args) > 1 && os.Args[1] == "example" {
		b, _ := encodeFrame(frame{typ: frameInvoke, id: 7, headers: []header{{"content-type", "text/plain"}}, payload: []byte("hi")})
		out.Write(b)
		return
	}
	in := newFrameReader(os.Stdin)
	for {
		f, err := in.next()
		if err == io.EOF {
			return
		}
		if err != nil {
			out.Flush()
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		b, err := encodeFrame(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out.Write(b)
	}
}
