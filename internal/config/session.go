package config

import "maps"

// Session holds the options of a script or a Table API session: its
// initial options (-D flags, the gateway's start-up settings) and those
// changed since by SET, RESET or TableConfig.set, in order. Every way of
// setting an option goes through Set, so they agree on precedence and
// checks.
type Session struct {
	initial, cur map[string]string
}

// NewSession starts a session whose options are initial; their values are
// not checked here (Resolve checks them all at once).
func NewSession(initial map[string]string) *Session {
	return &Session{initial: maps.Clone(initial), cur: maps.Clone(initial)}
}

// Set sets key to value, as SET 'key' = 'value' does. A bad value of a
// known option is an error (an *Error) and changes nothing; a key weir does
// not read is kept (Resolve warns about it).
func (s *Session) Set(key, value string) error {
	if err := Check(key, value); err != nil {
		return err
	}
	if s.cur == nil {
		s.cur = map[string]string{}
	}
	s.cur[key] = value
	return nil
}

// Reset returns key to its initial value (or its default), as RESET 'key'
// does; an empty key resets every option, as RESET does.
func (s *Session) Reset(key string) {
	if key == "" {
		s.cur = maps.Clone(s.initial)
		return
	}
	if v, ok := s.initial[key]; ok {
		s.cur[key] = v
	} else {
		delete(s.cur, key)
	}
}

// Map returns a copy of the session's current options.
func (s *Session) Map() map[string]string {
	out := maps.Clone(s.cur)
	if out == nil {
		out = map[string]string{}
	}
	return out
}
