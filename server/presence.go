package server

import (
	"slices"
	"strings"
	"time"

	"github.com/duplex-chat/duplex/shared"
)

// Presence is coalesced: joins and leaves mark users as changed, and one
// flush per Options.PresenceInterval tells every live member what changed,
// as one presence_diff frame encoded once. A join storm of N users costs
// each member one frame per interval instead of N frames.
//
// Above Options.PresenceThreshold members a room is "large": its members
// get only the member count (a presence frame without the list), at most
// once per interval scaled by the room's size, so that a large room costs
// a bounded rate of presence bytes however many join; its list is paged on
// request (members). The room goes back to lists below three quarters of
// the threshold, so that churn at the boundary does not flap.

// maxCountSlowdown caps how much the count interval of a large room grows
// with its size.
const maxCountSlowdown = 40

// presenceState is a room's presence since its last flush, under room.mu.
type presenceState struct {
	log     []presenceChange // changes since the last flush, in order
	changes int64            // presence changes so far; log[i] is change flushed+i+1
	flushed int64            // changes at the last flush
	large   bool             // counts only, as of the last flush
	timer   *time.Timer      // the next flush, while changes are pending
	// seen is what each live member was last told. It lives here, not in
	// the cursor, to keep the cursors the fan-out walks small.
	seen map[*session]*seenPresence
	// localChanged: this node's members changed since it last reported
	// them to the other nodes of a cluster (peers.go).
	localChanged bool
}

// presenceChange is one user arriving in or leaving a room.
type presenceChange struct {
	member shared.Member
	joined bool
}

// seenPresence is what one member was last told about its room.
type seenPresence struct {
	listed  bool  // it holds the member list (not only a count)
	changes int64 // presenceState.changes its list reflects
	count   int   // the count it was last sent
}

func (r *room) threshold() int { return r.srv.opts.PresenceThreshold }

// presenceChangedLocked records that m arrived (wasPresent false) or left.
func (r *room) presenceChangedLocked(m shared.Member, wasPresent bool) {
	p := &r.pres
	p.log = append(p.log, presenceChange{member: m, joined: !wasPresent})
	p.changes++
	if p.timer == nil {
		p.timer = time.AfterFunc(r.flushDelayLocked(), r.flushPresence)
	}
}

// flushDelayLocked is the presence interval, scaled by the room's size
// when it is large.
func (r *room) flushDelayLocked() time.Duration {
	d := r.srv.opts.PresenceInterval
	if r.pres.large {
		d *= time.Duration(min(max(len(r.users)/r.threshold(), 1), maxCountSlowdown))
	}
	return d
}

// flushPresence sends what changed since the last flush to every live
// member: a diff, a count in a large room, or a full snapshot to a member
// whose view a diff cannot bring up to date.
func (r *room) flushPresence() {
	report := false
	defer func() {
		if report { // after the unlock below
			r.reportMembers()
		}
	}()
	r.mu.Lock()
	defer r.mu.Unlock()
	report = r.pres.localChanged && r.srv.opts.Peers != nil
	p := &r.pres
	p.timer = nil
	if len(r.members) == 0 {
		return
	}
	if p.large {
		p.large = len(r.users) > r.threshold()*3/4
	} else {
		p.large = len(r.users) > r.threshold()
	}
	diffs := make(map[int64][]byte) // by the change a member's view is at
	for sess, c := range r.members {
		if !c.live {
			continue
		}
		v := p.seen[sess]
		if v == nil {
			v = &seenPresence{} // told nothing yet
		}
		switch {
		case p.large:
			if v.listed || v.count != len(r.users) {
				sess.q.enqueue(r.snapshotLocked(sess, true))
			}
		case !v.listed:
			sess.q.enqueue(r.snapshotLocked(sess, false))
		case v.changes < p.changes:
			// Members live since the last flush are at that flush's
			// state; one that went live since holds a list as of then.
			at := max(v.changes, p.flushed)
			d, ok := diffs[at]
			if !ok {
				d = r.diffSinceLocked(at)
				diffs[at] = d
			}
			if d != nil {
				sess.q.enqueue(d)
			}
			v.changes, v.count = p.changes, len(r.users)
		}
	}
	p.log = p.log[:0]
	p.flushed = p.changes
}

// diffSinceLocked encodes the net change after change number at, or nil:
// a user who came and went meanwhile is not mentioned.
func (r *room) diffSinceLocked(at int64) []byte {
	was := make(map[string]pendingWas)
	for _, ch := range r.pres.log[at-r.pres.flushed:] {
		if _, ok := was[ch.member.User]; !ok {
			was[ch.member.User] = pendingWas{member: ch.member, present: !ch.joined}
		}
	}
	d := &shared.PresenceDiff{Room: r.name}
	for user, w := range was {
		now := r.users[user]
		switch {
		case now != nil && (!w.present || now.member != w.member):
			d.Joined = append(d.Joined, now.member) // arrived, or changed nick
		case now == nil && w.present:
			d.Left = append(d.Left, w.member)
		}
	}
	if len(d.Joined)+len(d.Left) == 0 {
		return nil
	}
	sortMembers(d.Joined)
	sortMembers(d.Left)
	frame, err := shared.Encode(shared.TypePresenceDiff, "", d)
	if err != nil {
		return nil
	}
	return frame
}

type pendingWas struct {
	member  shared.Member
	present bool
}

// snapshotLocked encodes the room's presence for sess, a count alone when
// countOnly, and records what sess was told.
func (r *room) snapshotLocked(sess *session, countOnly bool) []byte {
	p := &shared.Presence{Room: r.name, Count: len(r.users)}
	if !countOnly {
		p.Members = make([]shared.Member, 0, len(r.users))
		for _, u := range r.users {
			p.Members = append(p.Members, u.member)
		}
		slices.SortFunc(p.Members, func(a, b shared.Member) int { return strings.Compare(a.Nick, b.Nick) })
	}
	if r.pres.seen == nil {
		r.pres.seen = make(map[*session]*seenPresence)
	}
	r.pres.seen[sess] = &seenPresence{listed: !countOnly, changes: r.pres.changes, count: len(r.users)}
	frame, _ := shared.Encode(shared.TypePresence, "", p)
	return frame
}

// stopPresenceLocked cancels a pending flush of a room being dropped.
func (r *room) stopPresenceLocked() {
	if r.pres.timer != nil {
		r.pres.timer.Stop()
		r.pres.timer = nil
	}
}

// membersPage returns up to limit members whose user id sorts after
// after, in user id order, and whether more follow.
func (r *room) membersPage(after string, limit int) ([]shared.Member, bool) {
	r.mu.Lock()
	page := make([]shared.Member, 0, min(limit+1, len(r.users)))
	for user, u := range r.users {
		if user > after {
			page = append(page, u.member)
		}
	}
	r.mu.Unlock()
	sortMembers(page)
	if len(page) > limit {
		return page[:limit], true
	}
	return page, false
}

func sortMembers(ms []shared.Member) {
	slices.SortFunc(ms, func(a, b shared.Member) int { return strings.Compare(a.User, b.User) })
}

// members answers a members request with a page of the room's members.
func (s *session) members(id string, m *shared.Members) {
	r := s.joined(m.Room)
	if r == nil {
		s.fail(id, shared.Errorf(shared.CodeNotJoined, "join room %q before listing its members", m.Room))
		return
	}
	page, more := r.membersPage(m.After, m.Limit)
	s.reply(shared.TypeAck, id, &shared.MembersAck{Room: m.Room, Members: page, More: more})
}
