// The generator of shared/confusables_table.go, a module of its own so that
// its dependencies (the confusables data and golang.org/x/text's
// normalization) never enter the project's go.mod: shared/ stays standard
// library only. Under testdata/, the go command ignores it elsewhere.
module confusablesgen

go 1.26.0

require (
	github.com/mtibben/confusables v0.0.0-20210201002637-9d1b0723b659
	golang.org/x/text v0.44.0
)
