// Command compress writes the brotli (.br) and gzip (.gz) twins of a file,
// such as web/app.wasm, at build time, so the server never compresses per
// request. It uses pure-Go compressors: a machine with only Go can build.
//
//	go run ./server/cmd/compress web/app.wasm
package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"

	"github.com/andybalholm/brotli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compress FILE")
		os.Exit(2)
	}
	src := os.Args[1]
	if err := write(src, src+".br", func(w io.Writer) io.WriteCloser {
		return brotli.NewWriterOptions(w, brotli.WriterOptions{Quality: brotli.BestCompression, LGWin: 24})
	}); err != nil {
		fail(err)
	}
	if err := write(src, src+".gz", func(w io.Writer) io.WriteCloser {
		zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
		return zw
	}); err != nil {
		fail(err)
	}
}

// write compresses src into dst through a temporary file, so a reader never
// sees a half-written twin.
func write(src, dst string, newWriter func(io.Writer) io.WriteCloser) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(".", ".compress-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	zw := newWriter(tmp)
	if _, err := io.Copy(zw, in); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	info, _ := in.Stat()
	out, _ := os.Stat(tmp.Name())
	fmt.Printf("%s: %d bytes -> %s: %d bytes\n", src, info.Size(), dst, out.Size())
	return os.Rename(tmp.Name(), dst)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compress:", err)
	os.Exit(1)
}
