// riff's host for Go plugins, as riff's Go invoker ran them: `riff-go-plugin-host FILE.so
// SYMBOL` opens a plugin the user built with `go build -buildmode=plugin` and serves the
// exported func it names. Built once per Go toolchain, since a plugin loads only into a
// program built by the same one.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"plugin"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: riff-go-plugin-host FILE.so SYMBOL")
		os.Exit(2)
	}
	file, symbol := os.Args[1], os.Args[2]
	serve(symbol, func() (any, error) {
		p, err := plugin.Open(file)
		if err != nil {
			return nil, fmt.Errorf("cannot load the Go plugin %s: %v; build it with the daemon's Go toolchain (go build -buildmode=plugin)", filepath.Base(file), err)
		}
		sym, err := p.Lookup(symbol)
		if err != nil {
			return nil, fmt.Errorf("the Go plugin %s exports no symbol %s: pass --handler with the name of an exported func", filepath.Base(file), symbol)
		}
		return sym, nil
	})
}
