module github.com/duplex-chat/duplex/app/ui/testdata/emojigen

go 1.24

require (
	github.com/enescakir/emoji v1.0.0
	github.com/forPelevin/gomoji v1.2.0
)

require github.com/rivo/uniseg v0.4.3 // indirect
