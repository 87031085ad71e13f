package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"runtime"
	"runtime/debug"
	"syscall"
)

// serveDebug serves pprof and /debug/gc (collect and return memory to the
// OS, so RSS measurements see live memory) on a separate listener that an
// operator binds to loopback.
func serveDebug(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/gc", func(w http.ResponseWriter, r *http.Request) { debug.FreeOSMemory() })
	mux.HandleFunc("/debug/mem", func(w http.ResponseWriter, r *http.Request) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Fprintf(w, "goroutines %d\nheap_inuse %d\nstack_inuse %d\nsys %d\nheap_idle %d\nheap_released %d\n",
			runtime.NumGoroutine(), m.HeapInuse, m.StackInuse, m.Sys, m.HeapIdle, m.HeapReleased)
	})
	slog.Info("debug listener", "addr", addr)
	if err := http.ListenAndServe(addr, mux); err != nil {
		slog.Error("debug listener", "err", err)
	}
}

// raiseFileLimit lifts the soft open-file limit to the hard one (and the
// hard one too when running as root), since every socket is a file.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return
	}
	want := l
	if want.Max < 1<<20 {
		want.Max = 1 << 20
	}
	want.Cur = want.Max
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) != nil {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}
