package server

import (
	"slices"
	"strings"
	"time"

	"github.com/duplex-chat/duplex/shared"
)

// Typing indicators are the cheapest thing the server carries and the
// first it drops. A room keeps who is typing (by user, so two tabs count
// once) with an expiry of shared.TypingTTL after their last typing frame;
// a typist is cleared when they send a message, say stop or leave. Changes
// are coalesced like presence (one flush per Options.PresenceInterval) and
// each member is told the list of the others typing only when that list
// changed for them. Nothing is stored. A typing frame is queued only to a
// session whose outgoing queue is nearly empty (enqueueTyping), so typing
// never makes a slow client slower, nor gets it closed; and typing frames
// over a connection's rate are dropped without an answer (Limits.Typing).

// typingState is a room's typists, under room.mu.
type typingState struct {
	users map[string]*typist // by user id
	sent  []shared.Member    // the list the members were last told, by user id
	timer *time.Timer        // the next flush: changes to tell, or an expiry
	due   time.Time          // when timer fires
}

type typist struct {
	member shared.Member
	until  time.Time
}

// maxTypists is the most typists a typing frame lists (the first by user
// id): enough for "N people are typing", and it bounds the frames a flush
// encodes (one per listed typist, plus one for everyone else).
const maxTypists = 10

func typingTTL() time.Duration { return time.Duration(shared.TypingTTL) * time.Millisecond }

// typing handles a client's typing frame. It is not a request: it has no
// answer, and one over the rate limit is dropped silently.
func (s *session) typing(t *shared.Typing) {
	if !s.allowQuietly(kindTyping) {
		return
	}
	if len(t.Users) > 0 {
		s.fail("", shared.Errorf(shared.CodeInvalid, "typing.users is for the server's frames; a client sends room and stop"))
		return
	}
	r := s.joined(t.Room)
	if r == nil {
		s.fail("", shared.Errorf(shared.CodeNotJoined, "join room %q before typing in it", t.Room))
		return
	}
	if t.Stop {
		r.typingStop(s.member.User)
	} else {
		r.typingStart(s.member)
	}
	s.srv.typingToPeers(t.Room, s.member, t.Stop) // peers.go
}

// typingStart marks m as typing for the next TypingTTL.
func (r *room) typingStart(m shared.Member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ts := &r.typing
	if ts.users == nil {
		ts.users = make(map[string]*typist)
	}
	old := ts.users[m.User]
	ts.users[m.User] = &typist{member: m, until: time.Now().Add(typingTTL())}
	if old == nil || old.member != m {
		r.typingChangedLocked()
	}
}

// typingStop clears a typist (a stop, a message sent).
func (r *room) typingStop(user string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.typingStopLocked(user)
}

func (r *room) typingStopLocked(user string) {
	if _, ok := r.typing.users[user]; ok {
		delete(r.typing.users, user)
		r.typingChangedLocked()
	}
}

// typingChangedLocked schedules a flush within the coalescing interval.
func (r *room) typingChangedLocked() {
	r.scheduleTypingLocked(time.Now().Add(r.srv.opts.PresenceInterval))
}

// scheduleTypingLocked makes the next flush happen no later than at.
func (r *room) scheduleTypingLocked(at time.Time) {
	ts := &r.typing
	if ts.timer != nil {
		if !ts.due.After(at) {
			return
		}
		ts.timer.Stop()
	}
	ts.due = at
	ts.timer = time.AfterFunc(time.Until(at), r.flushTyping)
}

// flushTyping drops expired typists and tells every live member whose view
// changed who else is typing now.
func (r *room) flushTyping() {
	r.mu.Lock()
	defer r.mu.Unlock()
	ts := &r.typing
	ts.timer = nil
	now := time.Now()
	var next time.Time
	for user, t := range ts.users {
		if !t.until.After(now) {
			delete(ts.users, user)
		} else if next.IsZero() || t.until.Before(next) {
			next = t.until
		}
	}
	list := make([]shared.Member, 0, len(ts.users))
	for _, t := range ts.users {
		list = append(list, t.member)
	}
	sortMembers(list)
	list = list[:min(len(list), maxTypists)]
	if !slices.Equal(list, ts.sent) {
		r.broadcastTypingLocked(ts.sent, list)
		ts.sent = list
	}
	if !next.IsZero() {
		r.scheduleTypingLocked(next)
	}
}

// broadcastTypingLocked sends each live member the typists other than
// itself, when that differs from what it was told (prev). The frame for
// members not typing is encoded once; each typist gets one without itself
// (at most maxTypists of them).
func (r *room) broadcastTypingLocked(prev, next []shared.Member) {
	listed := func(list []shared.Member, user string) bool {
		return slices.ContainsFunc(list, func(m shared.Member) bool { return m.User == user })
	}
	var all []byte // the frame for members in neither list
	for sess, c := range r.members {
		if !c.live {
			continue
		}
		me := sess.member.User
		if !listed(prev, me) && !listed(next, me) {
			if all == nil {
				all = r.typingFrame(next, "")
			}
			sess.q.enqueueTyping(all)
			continue
		}
		if !sameWithout(prev, next, me) {
			sess.q.enqueueTyping(r.typingFrame(next, me))
		}
	}
}

// typingFrame encodes the typists but the user without ("" for none).
func (r *room) typingFrame(list []shared.Member, without string) []byte {
	users := make([]shared.Member, 0, len(list))
	for _, m := range list {
		if m.User != without {
			users = append(users, m)
		}
	}
	slices.SortFunc(users, func(a, b shared.Member) int { return strings.Compare(a.Nick, b.Nick) })
	frame, _ := shared.Encode(shared.TypeTyping, "", &shared.Typing{Room: r.name, Users: users})
	return frame
}

// sameWithout reports whether a and b list the same users once user is
// left out of both.
func sameWithout(a, b []shared.Member, user string) bool {
	a = slices.DeleteFunc(slices.Clone(a), func(m shared.Member) bool { return m.User == user })
	b = slices.DeleteFunc(slices.Clone(b), func(m shared.Member) bool { return m.User == user })
	return slices.Equal(a, b)
}

// typingSnapshotLocked is the typing frame for a member that just went
// live, or nil when nobody else is typing.
func (r *room) typingSnapshotLocked(sess *session) []byte {
	if !slices.ContainsFunc(r.typing.sent, func(m shared.Member) bool { return m.User != sess.member.User }) {
		return nil
	}
	return r.typingFrame(r.typing.sent, sess.member.User)
}

// stopTypingLocked cancels the flush of a room being dropped.
func (r *room) stopTypingLocked() {
	if r.typing.timer != nil {
		r.typing.timer.Stop()
		r.typing.timer = nil
	}
}
