package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/app/client"
	"github.com/duplex-chat/duplex/shared"
	"github.com/duplex-chat/duplex/shared/testpoll"
)

// TestNickConfusablesRefused (issue #15): while alice is online, the real
// app refuses every look-alike of her nickname with nick_taken, in hello
// (Dial) and in a nickname change: the five the hand list let through
// (mathematical sans-serif, U+0251, U+217C, U+0269, U+212F) and the
// Cyrillic, full-width, zero-width and dotless-ı ones it already caught.
// "alicia" is accepted, and so is "alice" once alice has left.
func TestNickConfusablesRefused(t *testing.T) {
	ta := startApp(t, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	quiet := func(client.Event) {}
	alice, err := client.Dial(ctx, ta.WS, &client.Options{Nick: "alice", OnEvent: quiet})
	if err != nil {
		t.Fatal(err)
	}
	variants := []struct{ name, nick string }{
		{"mathematical sans-serif", "\U0001D5BA\U0001D5C5\U0001D5C2\U0001D5BC\U0001D5BE"}, // 𝖺𝗅𝗂𝖼𝖾
		{"Latin alpha U+0251", "\u0251lice"},                                              // ɑlice
		{"small roman numeral fifty U+217C", "a\u217Cice"},                                // aⅼice
		{"Latin iota U+0269", "a\u0269ice"},                                               // aɩice
		{"script small e U+212F", "alic\u212F"},                                           // alicℯ
		{"Cyrillic а", "\u0430lice"},
		{"full-width", "\uff41\uff4c\uff49\uff43\uff45"},
		{"zero-width space", "al\u200bice"},
		{"dotless ı", "al\u0131ce"},
		{"upper case", "ALICE"},
	}
	for _, v := range variants {
		_, err := client.Dial(ctx, ta.WS, &client.Options{Nick: v.nick, OnEvent: quiet})
		wantCode(t, v.name+" ("+v.nick+") in hello", err, shared.CodeNickTaken)
	}
	alicia, err := client.Dial(ctx, ta.WS, &client.Options{Nick: "alicia", OnEvent: quiet})
	if err != nil {
		t.Fatalf("alicia refused: %v", err)
	}
	defer alicia.Close()
	for _, v := range variants[:5] {
		wantCode(t, v.name+" ("+v.nick+") as a new nickname", alicia.SetNick(ctx, v.nick), shared.CodeNickTaken)
	}
	if alicia.Nick() != "alicia" {
		t.Fatalf("after refused changes the nickname is %q", alicia.Nick())
	}
	alice.Close()
	// Once alice is gone (the server sees her socket close a moment
	// later), her look-alike is free.
	testpoll.Until(t, "alice's look-alike accepted after she left", func() bool {
		err = alicia.SetNick(ctx, variants[0].nick)
		return err == nil
	}, func() string { return fmt.Sprint(err) })
}
