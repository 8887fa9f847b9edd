// riffgen reads a Go package and reports, as JSON on stdout, what riff needs to build a
// function from it: the package's name, its files (with build constraints applied), and its
// exported top-level funcs with where they are and whether riff could call them. Standard
// library only; riff compiles it once per Go toolchain (packages/runtime, invokers/go).
//
// Usage: riffgen DIR
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
)

type fileInfo struct {
	Name string `json:"name"`
	// PackageNameOffset is the byte offset of the name in the file's package clause.
	PackageNameOffset int `json:"packageNameOffset"`
}

type funcInfo struct {
	Name string `json:"name"`
	File string `json:"file"`
	Line int    `json:"line"`
	// Problem says why riff cannot call it; "" when the shape fits (checked again by type).
	Problem string `json:"problem"`
}

type report struct {
	Package string     `json:"package"`
	Files   []fileInfo `json:"files"`
	Funcs   []funcInfo `json:"funcs"`
	Cgo     bool       `json:"cgo"`
	// Errors are syntax errors, as file:line:col: message.
	Errors []string `json:"errors"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: riffgen DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	var r report
	pkg, err := build.ImportDir(dir, 0)
	if err != nil {
		if _, none := err.(*build.NoGoError); !none {
			r.Errors = append(r.Errors, err.Error())
		}
	}
	if pkg != nil {
		r.Package = pkg.Name
		r.Cgo = len(pkg.CgoFiles) > 0
		fset := token.NewFileSet()
		for _, name := range append(append([]string{}, pkg.GoFiles...), pkg.CgoFiles...) {
			f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				r.Errors = append(r.Errors, err.Error())
				continue
			}
			r.Files = append(r.Files, fileInfo{name, fset.Position(f.Name.Pos()).Offset})
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.IsExported() {
					r.Funcs = append(r.Funcs, funcInfo{fd.Name.Name, name, fset.Position(fd.Pos()).Line, problem(fd.Type)})
				}
			}
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		os.Exit(1)
	}
}

// problem is why a func of this signature cannot be a riff function, by its syntax alone.
func problem(t *ast.FuncType) string {
	if t.TypeParams != nil && len(t.TypeParams.List) > 0 {
		return "it is generic"
	}
	params := count(t.Params)
	if params > 2 {
		return fmt.Sprintf("it takes %d parameters", params)
	}
	if params == 2 {
		if _, ok := t.Params.List[0].Type.(*ast.ChanType); !ok {
			return "it takes 2 parameters, and only a stream takes two (an input and an output channel)"
		}
	}
	if count(t.Results) > 2 {
		return fmt.Sprintf("it returns %d results", count(t.Results))
	}
	return ""
}

func count(fields *ast.FieldList) int {
	if fields == nil {
		return 0
	}
	n := 0
	for _, f := range fields.List {
		if len(f.Names) == 0 {
			n++
		} else {
			n += len(f.Names)
		}
	}
	return n
}
