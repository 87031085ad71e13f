package ui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"sort"
	"strings"
	"testing"
)

// TestModelNeverCallsClientUnderItsLock: the lock order
// (server/ARCHITECTURE.md) has no lock of the client taken inside the
// model's: the model reads the client first, then takes its own lock
// (snapshot's clientView, model.event's reads before m.mu). The test reads
// the package's source: in every function (and every function literal, on
// its own: it runs later, on another goroutine or in ctx.Async) it
// follows m.mu.Lock and m.mu.Unlock in source order and fails on a call of
// a client method (on cl, old, or a .cl field) while the lock is held, or
// anywhere in a function named …Locked (called with the lock held); also
// on the model's own readers of the client (client, readClient, messages,
// started), which would take m.mu again. Checked against the code before
// issue #18 (snapshot, rowsLocked, pump, loadOlder, start, lastOwn,
// notifyLocked, namesLocked called the client under m.mu): it named each.
// It knows calls by name, not type: a client held under another name is
// not seen.
func TestModelNeverCallsClientUnderItsLock(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Body == nil {
					continue
				}
				checked++
				for _, bad := range lockViolations(fd.Body, strings.HasSuffix(fd.Name.Name, "Locked")) {
					t.Errorf("%s: %s calls the client with the model's lock held", fset.Position(bad), fd.Name.Name)
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("read only %d functions: the test is not reading the package", checked)
	}
}

// lockViolations follows m.mu through body's statements in order, with
// the lock held at the start when locked. A branch that ends in return,
// continue or break leaves the state after it as it was before it; the
// cases of a switch each start from the state before it. Function
// literals are checked on their own, starting unlocked.
func lockViolations(body *ast.BlockStmt, locked bool) []token.Pos {
	var bad []token.Pos
	var stmts func([]ast.Stmt, bool) bool
	// calls checks the calls of one simple statement (or expression) in
	// source order and returns the state after it.
	calls := func(n ast.Node, locked bool) bool {
		if n == nil {
			return locked
		}
		type ev struct {
			pos  token.Pos
			kind int // 0 lock, 1 unlock, 2 client call
		}
		var evs []ev
		_, deferred := n.(*ast.DeferStmt)
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				bad = append(bad, lockViolations(n.Body, false)...)
				return false
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				switch x := exprName(sel.X); {
				case deferred:
					// a deferred Unlock leaves the lock held to the end
				case x == "m.mu" && sel.Sel.Name == "Lock":
					evs = append(evs, ev{n.Pos(), 0})
				case x == "m.mu" && sel.Sel.Name == "Unlock":
					evs = append(evs, ev{n.Pos(), 1})
				case (x == "cl" || x == "old" || strings.HasSuffix(x, ".cl")) && ast.IsExported(sel.Sel.Name):
					evs = append(evs, ev{n.Pos(), 2})
				case x == "m" && (sel.Sel.Name == "client" || sel.Sel.Name == "readClient" || sel.Sel.Name == "messages" || sel.Sel.Name == "started"):
					evs = append(evs, ev{n.Pos(), 2})
				}
			}
			return true
		})
		sort.Slice(evs, func(i, j int) bool { return evs[i].pos < evs[j].pos })
		for _, e := range evs {
			switch e.kind {
			case 0:
				locked = true
			case 1:
				locked = false
			case 2:
				if locked {
					bad = append(bad, e.pos)
				}
			}
		}
		return locked
	}
	ends := func(b *ast.BlockStmt) bool {
		if b == nil || len(b.List) == 0 {
			return false
		}
		switch b.List[len(b.List)-1].(type) {
		case *ast.ReturnStmt, *ast.BranchStmt:
			return true
		}
		return false
	}
	var stmt func(ast.Stmt, bool) bool
	stmt = func(st ast.Stmt, locked bool) bool {
		switch st := st.(type) {
		case *ast.BlockStmt:
			return stmts(st.List, locked)
		case *ast.IfStmt:
			locked = calls(st.Init, locked)
			locked = calls(st.Cond, locked)
			after := stmts(st.Body.List, locked)
			if ends(st.Body) {
				after = locked
			}
			if st.Else != nil {
				elseAfter := stmt(st.Else, locked)
				if b, ok := st.Else.(*ast.BlockStmt); !ok || !ends(b) {
					after = elseAfter
				}
			}
			return after
		case *ast.ForStmt:
			locked = calls(st.Init, locked)
			locked = calls(st.Cond, locked)
			return stmts(st.Body.List, locked)
		case *ast.RangeStmt:
			locked = calls(st.X, locked)
			return stmts(st.Body.List, locked)
		case *ast.SwitchStmt:
			locked = calls(st.Init, locked)
			locked = calls(st.Tag, locked)
			for _, c := range st.Body.List {
				stmts(c.(*ast.CaseClause).Body, locked)
			}
			return locked
		case *ast.TypeSwitchStmt:
			locked = calls(st.Init, locked)
			for _, c := range st.Body.List {
				stmts(c.(*ast.CaseClause).Body, locked)
			}
			return locked
		case *ast.SelectStmt:
			for _, c := range st.Body.List {
				stmts(c.(*ast.CommClause).Body, locked)
			}
			return locked
		case *ast.LabeledStmt:
			return stmt(st.Stmt, locked)
		}
		return calls(st, locked)
	}
	stmts = func(list []ast.Stmt, locked bool) bool {
		for _, st := range list {
			locked = stmt(st, locked)
		}
		return locked
	}
	stmts(body.List, locked)
	return bad
}

func exprName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprName(e.X) + "." + e.Sel.Name
	}
	return ""
}
