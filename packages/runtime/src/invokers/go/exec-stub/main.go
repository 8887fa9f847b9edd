// riff's pre-started replica for compiled functions: `riff-exec-stub` is started ahead of
// need, inside a replica's sandbox, says READY with `riff-pool: ready` on fd 3, and waits.
// On LOAD it takes the function's environment and folder and becomes the function's own
// program (`riff-exec`) by exec, keeping fd 3, its sandbox and its cgroup. The program then
// speaks for itself: its READY (or INIT_FAILED) is the one the daemon waits for. So a cold
// start costs the program's own start, not a sandbox's. Built once per Go toolchain with
// frames.go, riff's frame format.
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"syscall"
)

func main() {
	ch := os.NewFile(3, "riff")
	if ch == nil {
		fmt.Fprintln(os.Stderr, "riff-exec-stub: fd 3, riff's channel, is not open")
		os.Exit(2)
	}
	send(ch, frame{typ: frameReady, headers: []header{{"riff-pool", "ready"}}})
	for {
		f, err := readOne(ch)
		if err != nil {
			os.Exit(0) // the daemon went away, or stopped the pool
		}
		if f.typ != frameLoad {
			continue
		}
		err = become(f)
		// Only a failed exec comes back here.
		body, _ := json.Marshal(map[string]string{"code": "RIFF_FUNCTION_STARTUP_FAILED", "message": err.Error()})
		send(ch, frame{typ: frameInitFailed, payload: body})
		os.Exit(1)
	}
}

// become turns this process into the program LOAD names, in its folder, with its environment.
func become(f frame) error {
	program, dir := f.first("riff-exec"), f.first("riff-dir")
	if program == "" {
		return fmt.Errorf("LOAD named no program to run (riff-exec)")
	}
	env := map[string]string{}
	if err := json.Unmarshal(f.payload, &env); err != nil {
		return fmt.Errorf("LOAD's environment is not a JSON object: %v", err)
	}
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	if dir != "" {
		if err := os.Chdir(dir); err != nil {
			return fmt.Errorf("cannot enter the function's folder: %v", err)
		}
	}
	if err := syscall.Exec(program, []string{program}, list); err != nil {
		return fmt.Errorf("cannot run %s: %v", program, err)
	}
	return nil
}

// readOne reads exactly one frame, unbuffered: nothing after it may be taken from the
// channel, since the program that replaces this process reads on from there.
func readOne(r io.Reader) (frame, error) {
	var prefix [4]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return frame{}, err
	}
	length := binary.BigEndian.Uint32(prefix[:])
	if length < fixedBytes || length > maxFrameBytes {
		return frame{}, fmt.Errorf("%w: frame length %d", errProtocol, length)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return frame{}, err
	}
	return parseBody(body)
}

func send(w io.Writer, f frame) {
	if b, err := encodeFrame(f); err == nil {
		_, _ = w.Write(b)
	}
}
