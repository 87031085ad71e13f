//go:build !(js && wasm)

package main

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// msgSel is the CSS selector of the message row seq, followed by sub.
func msgSel(seq int64, sub string) string {
	return `[data-test=messages] [data-test=message][data-seq="` + strconv.FormatInt(seq, 10) + `"] ` + sub
}

// reactionCount is the JavaScript for the data-count of emoji on message
// seq ("" when absent) and whether it is pressed.
func reactionJS(seq int64, emoji string) string {
	return `(() => { const b = document.querySelector(` + quote(msgSel(seq, `[data-test=reaction][data-emoji="`+emoji+`"]`)) + `);
		return b ? b.dataset.count + '/' + b.getAttribute('aria-pressed') : ''; })()`
}

// noMarkupRan fails when an <img> was created inside the messages or the
// composer bar, or an onerror handler ran (it sets window.__xss).
func noMarkupRan(t *testing.T, b *tab) {
	t.Helper()
	if v, err := tryPoll[bool](b, `window.__xss !== 0`, 500*time.Millisecond); !errors.Is(err, chromedp.ErrPollingTimeout) {
		t.Errorf("%s: window.__xss changed (%v, %v): markup in an edit or a quote ran", b.name, v, err)
	}
	if n := eval[int](b, `document.querySelectorAll('[data-test=messages] img, .composer-bar img').length`); n != 0 {
		t.Errorf("%s: %d <img> elements: an edited body or a reply quote was rendered as HTML", b.name, n)
	}
}

// TestBrowserEditsReactionsReplies: alice sends, bob reacts (alice sees
// the count), alice edits with Up-arrow (bob sees the edit and
// "(edited)"), alice deletes with the keyboard confirm (bob sees
// "message deleted"), bob replies through the composer's quote; a third
// person who joins later clicks the quote and the page pages history back
// to the parent and highlights it; alice reloads and sees the same final
// state. The edited body and so the reply's quote carry
// <img src=x onerror=...>: no element is created, nothing runs. axe-core
// checks the page with every new element on it, the picker and the
// confirmation open.
func TestBrowserEditsReactionsReplies(t *testing.T) {
	exe := requireBrowser(t)
	timed(t)
	ta := startApp(t, "", "")
	alice := newTab(t, exe, "alice")
	bob := newTab(t, exe, "bob")
	alice.open(ta.URL + "/r/lobby")
	alice.signIn("alice")
	bob.open(ta.URL + "/r/lobby")
	bob.signIn("bob")
	for _, b := range []*tab{alice, bob} {
		eval[chromedp.Void](b, `window.__xss = 0`)
	}

	const plan = "the plan is ready"
	alice.sendEnter(plan)
	m1 := bob.waitRow(plan, "alice", "sent")
	alice.waitRow(plan, "alice", "sent")

	// bob reacts with the picker; alice sees the count, bob his own press.
	bob.do("open the emoji picker", chromedp.Click(chromedp.CSS(msgSel(m1.Seq, `[data-test=add-reaction]`))))
	poll[bool](bob, "the picker, focused", `document.activeElement?.dataset.test === 'pick-emoji'`)
	bob.axeCheck("a message with the emoji picker open")
	bob.do("pick 👍", chromedp.Click(chromedp.CSS(msgSel(m1.Seq, `[data-test=pick-emoji][data-emoji="👍"]`))))
	poll[bool](alice, "bob's 👍 on alice's message", reactionJS(m1.Seq, "👍")+` === '1/false'`)
	poll[bool](bob, "bob's own 👍, pressed", reactionJS(m1.Seq, "👍")+` === '1/true'`)
	// alice adds hers by pressing the toggle: 2, pressed for her.
	alice.do("press the 👍 toggle", chromedp.Click(chromedp.CSS(msgSel(m1.Seq, `[data-test=reaction][data-emoji="👍"]`))))
	poll[bool](bob, "two 👍", reactionJS(m1.Seq, "👍")+` === '2/true'`)
	poll[bool](alice, "alice's 👍 pressed", reactionJS(m1.Seq, "👍")+` === '2/true'`)

	// alice edits with Up-arrow in the empty composer; Escape first
	// cancels one edit and gives the draft back.
	poll[bool](alice, "an empty composer", `document.querySelector('[data-test=composer]').value === ''`)
	alice.do("Up-arrow in the empty composer",
		chromedp.Focus(chromedp.CSS(`[data-test=composer]`)),
		chromedp.KeyEvent(kb.ArrowUp),
	)
	poll[bool](alice, "the composer to hold the message to edit", `document.querySelector('[data-test=composer]').value === `+quote(plan)+
		` && !!document.querySelector('[data-test=editing]')`)
	alice.do("Escape cancels the edit", chromedp.KeyEvent(kb.Escape))
	poll[bool](alice, "the edit cancelled", `document.querySelector('[data-test=composer]').value === '' && !document.querySelector('[data-test=editing]')`)
	const edited = `the plan is final <img src=x onerror="window.__xss=1">`
	alice.do("Up-arrow, new text, Enter",
		chromedp.KeyEvent(kb.ArrowUp),
		chromedp.SetValue(chromedp.CSS(`[data-test=composer]`), edited),
		chromedp.KeyEvent(kb.Enter),
	)
	for _, b := range []*tab{bob, alice} {
		poll[bool](b, "the edited body with (edited)", `(() => {
			const m = document.querySelector(`+quote(msgSel(m1.Seq, ""))+`.trim());
			return m && m.querySelector('[data-test=body]').textContent === `+quote(edited)+` && !!m.querySelector('[data-test=edited]'); })()`)
	}
	poll[bool](alice, "the composer empty after saving", `document.querySelector('[data-test=composer]').value === '' && !document.querySelector('[data-test=editing]')`)

	// alice deletes a second message: Escape cancels the confirmation,
	// then Enter on the focused confirm button deletes.
	const gone = "this one will be deleted"
	alice.sendEnter(gone)
	m2 := bob.waitRow(gone, "alice", "sent")
	alice.waitRow(gone, "alice", "sent")
	alice.do("Delete", chromedp.Click(chromedp.CSS(msgSel(m2.Seq, `[data-test=delete]`))))
	poll[bool](alice, "the confirm button focused", `document.activeElement?.dataset.test === 'delete-confirm'`)
	alice.axeCheck("a message asking to confirm its delete")
	alice.do("Escape", chromedp.KeyEvent(kb.Escape))
	poll[bool](alice, "the confirmation gone, the focus back on the message's Reply", `!document.querySelector('[data-test=delete-confirm]') &&
		!!document.querySelector(`+quote(msgSel(m2.Seq, `[data-test=delete]`))+`) &&
		document.activeElement === document.querySelector(`+quote(msgSel(m2.Seq, `[data-test=reply-button]`))+`)`)
	alice.do("Delete, then Enter",
		chromedp.Click(chromedp.CSS(msgSel(m2.Seq, `[data-test=delete]`))),
	)
	poll[bool](alice, "the confirm button focused", `document.activeElement?.dataset.test === 'delete-confirm'`)
	alice.do("Enter", chromedp.KeyEvent(kb.Enter))
	for _, b := range []*tab{bob, alice} {
		poll[bool](b, "message deleted", `(() => { const m = document.querySelector(`+quote(msgSel(m2.Seq, ""))+`.trim());
			return m && m.querySelector('[data-test=deleted]')?.textContent === 'message deleted' && !m.querySelector('[data-test=body]') &&
				!m.textContent.includes(`+quote(gone)+`); })()`)
	}

	// Others chat on: 60 messages push the plan out of a newcomer's first
	// page.
	carl := person(t, ta, "carl", "lobby")
	for i := range 60 {
		say(t, carl, "lobby", fmt.Sprintf("filler %02d", i))
	}
	bob.waitRow("filler 59", "carl", "sent")

	// bob replies to the plan through the composer's quote.
	bob.do("Reply", chromedp.Click(chromedp.CSS(msgSel(m1.Seq, `[data-test=reply-button]`))))
	poll[bool](bob, "the quote above the composer", `document.querySelector('[data-test=composer-reply]')?.dataset.seq === `+quote(strconv.FormatInt(m1.Seq, 10))+
		` && document.activeElement?.dataset.test === 'composer'`)
	bob.axeCheck("the composer with a reply quote")
	const agreed = "agreed, let's go"
	bob.sendEnter(agreed)
	reply := alice.waitRow(agreed, "bob", "sent")
	bob.waitRow(agreed, "bob", "sent")
	for _, b := range []*tab{alice, bob} {
		poll[bool](b, "the reply's quote of the edited plan", `(() => { const q = document.querySelector(`+quote(msgSel(reply.Seq, `[data-test=reply]`))+`);
			return q && q.dataset.seq === `+quote(strconv.FormatInt(m1.Seq, 10))+` && q.textContent.includes(`+quote(edited)+`); })()`)
		poll[bool](b, "no quote left above the composer", `!document.querySelector('[data-test=composer-reply]')`)
		noMarkupRan(t, b)
	}
	alice.axeCheck("reactions, an edited and a deleted message and a reply")

	// dora joins now: her first page holds the reply, not the plan.
	// Clicking the quote pages history back and highlights the plan.
	dora := newTab(t, exe, "dora")
	dora.open(ta.URL + "/r/lobby")
	dora.signIn("dora")
	dora.waitRow(agreed, "bob", "sent")
	if eval[bool](dora, `!!document.querySelector(`+quote(msgSel(m1.Seq, ""))+`.trim())`) {
		t.Fatalf("dora's first page already holds the plan (seq %d): the jump would not need history", m1.Seq)
	}
	dora.do("click the quote", chromedp.Click(chromedp.CSS(msgSel(reply.Seq, `[data-test=reply]`))))
	poll[bool](dora, "the plan loaded, highlighted and in view", `(() => {
		const m = document.querySelector(`+quote(msgSel(m1.Seq, ""))+`.trim());
		if (!m || !m.classList.contains('highlight')) return false;
		const r = m.getBoundingClientRect(), l = document.getElementById('messages').getBoundingClientRect();
		return r.bottom > l.top && r.top < l.bottom && document.activeElement === m; })()`)
	if got := eval[string](dora, reactionJS(m1.Seq, "👍")); got != "2/false" {
		t.Errorf("dora sees the plan's 👍 as %q, want 2/false", got)
	}

	// alice reloads: the same final state.
	alice.reload()
	alice.waitOnline()
	poll[bool](alice, "after the reload: edited, reacted, deleted, quoted", `(() => {
		const m1 = document.querySelector(`+quote(msgSel(m1.Seq, ""))+`.trim()), m2 = document.querySelector(`+quote(msgSel(m2.Seq, ""))+`.trim());
		const q = document.querySelector(`+quote(msgSel(reply.Seq, `[data-test=reply]`))+`);
		return m1 && m1.querySelector('[data-test=body]').textContent === `+quote(edited)+` && !!m1.querySelector('[data-test=edited]') &&
			`+reactionJS(m1.Seq, "👍")+` === '2/true' &&
			m2 && !!m2.querySelector('[data-test=deleted]') && q && q.textContent.includes(`+quote(edited)+`); })()`)
	eval[chromedp.Void](alice, `window.__xss = 0`)
	noMarkupRan(t, alice)
	for _, b := range []*tab{alice, bob, dora} {
		b.noCSPViolations()
		if n := b.dialogs.Load(); n != 0 {
			t.Errorf("%s: %d JavaScript dialogs opened", b.name, n)
		}
	}
}
