package main

import (
	"flag"
	"time"

	"github.com/duplex-chat/duplex/server"
)

// uploadFlags are the image and upload limits (issue #14; see the
// server.Options fields of the same names). Sizes are in MiB; zero picks
// the server's default.
type uploadFlags struct {
	uploadMemory, decodeMemory, maxDecode int64 // MiB
	uploadTimeout, decodeWait             time.Duration
	uploadMinRate                         int64 // KiB/s
	quota, quotaAddr                      int64 // MiB
	quotaWindow, unusedTTL                time.Duration
}

func (u *uploadFlags) register(fs *flag.FlagSet) {
	fs.Int64Var(&u.uploadMemory, "upload-memory", 0, "MiB of uploads held in memory at once while they arrive, over all connections; an upload that finds none is refused with unavailable (0: 64)")
	fs.DurationVar(&u.uploadTimeout, "upload-timeout", 0, "time one upload may take to arrive; a slower connection is closed with 4001 (0: 60s)")
	fs.Int64Var(&u.uploadMinRate, "upload-min-rate", 0, "KiB/s an upload must arrive at after its first 5s; a slower connection is closed with 4001 (0: 16; negative: no minimum)")
	fs.Int64Var(&u.decodeMemory, "decode-memory", 0, "MiB image decoding may use at once, over all uploads, priced from each image's header (0: 256)")
	fs.Int64Var(&u.maxDecode, "max-decode", 0, "MiB one image may cost to decode; more is refused with too_large (0: 192)")
	fs.DurationVar(&u.decodeWait, "decode-wait", 0, "how long an upload waits for -decode-memory before it is refused with unavailable (0: 10s)")
	fs.Int64Var(&u.quota, "upload-quota", 0, "MiB of images one user may upload per -upload-quota-window; more is refused with rate_limited (0: 50; negative: none)")
	fs.Int64Var(&u.quotaAddr, "upload-quota-addr", 0, "MiB of images all the users of one IP address may upload per window (0: 50; negative: none)")
	fs.DurationVar(&u.quotaWindow, "upload-quota-window", 0, "the upload quotas' window (0: 1h)")
	fs.DurationVar(&u.unusedTTL, "unused-upload-ttl", 0, "an uploaded image no message uses within this is removed (0: 10m; negative: never)")
}

func (u *uploadFlags) apply(o *server.Options) {
	mib := func(n int64) int64 {
		if n < 0 {
			return -1
		}
		return n << 20
	}
	o.UploadMemory, o.DecodeMemory, o.MaxDecodeBytes = mib(u.uploadMemory), mib(u.decodeMemory), mib(u.maxDecode)
	o.UploadTimeout, o.DecodeWait = u.uploadTimeout, u.decodeWait
	o.UploadMinRate = u.uploadMinRate << 10
	if u.uploadMinRate < 0 {
		o.UploadMinRate = -1
	}
	o.UploadQuota, o.UploadQuotaPerAddr, o.UploadQuotaWindow = mib(u.quota), mib(u.quotaAddr), u.quotaWindow
	o.UnusedUploadTTL = u.unusedTTL
}
